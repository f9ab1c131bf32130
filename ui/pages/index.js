// The page registry: routes, the navigation (in this order) and what main.js renders. Adding a page is one
// name here plus its file ui/pages/<name>.js, which default-exports {route, nav (catalog key, or null to stay
// out of the menu), parent? (the menu entry it highlights), render(...routeParams) -> nodes (may be async),
// holdLiveUpdates?(), after?(...routeParams) once shown}. The first page is the start page.
export const NAMES = ["status", "sites", "site", "device", "history", "workshop", "settings"];

export const PAGES = (await Promise.all(NAMES.map((name) => import(`./${name}.js`)))).map((m) => m.default);
