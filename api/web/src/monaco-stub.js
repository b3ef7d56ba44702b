// What @gorules/jdm-editor imports from monaco-editor (see vite.config.js): the marker
// severities of Monaco's API, with Monaco's values.
export const MarkerSeverity = Object.freeze({ Hint: 1, Info: 2, Warning: 4, Error: 8 });
