// Renders customer-facing reply templates: `{{ name }}` placeholders filled from a flat record.
// Strict on purpose: a missing value is an error naming the placeholder, never an empty gap or a
// literal "{{name}}" in a message a customer reads. Pure; no I/O.
import { LoopwrightError } from '../../../workflows/domain/errors.js';

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}/g;

export function renderTemplate(template: string, vars: Readonly<Record<string, string | number>>): string {
  // Braces that are not a well-formed placeholder are almost always a typo in the template; checked on
  // the template itself so values that happen to contain braces are sent verbatim.
  if (/\{\{|\}\}/.test(template.replace(PLACEHOLDER, ''))) {
    throw new LoopwrightError('invalid_input', 'template contains a malformed placeholder (expected {{name}})', { details: { field: 'template' } });
  }
  const missing = new Set<string>();
  const out = template.replace(PLACEHOLDER, (_m, name: string) => {
    const v = Object.hasOwn(vars, name) ? vars[name] : undefined;
    if (v === undefined) {
      missing.add(name);
      return '';
    }
    return String(v);
  });
  if (missing.size > 0) {
    throw new LoopwrightError('invalid_input', `template placeholders without a value: ${[...missing].join(', ')}`, {
      details: { field: 'vars', missing: [...missing] },
    });
  }
  return out;
}
