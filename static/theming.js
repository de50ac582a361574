// Follow the Jira user's theme (light, dark, match browser): Atlassian's all.js then sets
// data-color-mode / data-theme on <html> and keeps them in step with Jira. Loaded right after
// all.js, before the page renders, so the page does not flash light before going dark.
if (window.AP && window.AP.theming && window.AP.theming.initializeTheming) window.AP.theming.initializeTheming();
