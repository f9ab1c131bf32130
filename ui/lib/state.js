// What the pages share: the latest /api/status document and a few flags. main.js owns the updates.
export const state = {status: null, settingsDirty: false, authorised: true};
