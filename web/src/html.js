// htm bound to Preact: tagged templates instead of a JSX build step. Text interpolated into a template is always
// rendered as a text node, never parsed as HTML.
import { h } from 'preact';
import htm from 'htm';

export const html = htm.bind(h);
