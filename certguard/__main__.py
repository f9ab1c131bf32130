from certguard.app.cli import main

raise SystemExit(main())
