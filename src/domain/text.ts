/**
 * Cleaning user-entered text before it is stored: control characters, NULs (which MongoDB-compatible
 * servers reject) and bidirectional overrides (which can disguise text) are removed.
 */
const CONTROL =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069\u200B\uFEFF]/g;

export function sanitizeMultiline(s: string): string {
  return s.replace(/\r\n?/g, '\n').replace(CONTROL, '').trim();
}

export function sanitizeLine(s: string): string {
  return sanitizeMultiline(s)
    .replace(/\s*\n\s*/g, ' ')
    .replace(/\s{2,}/g, ' ');
}
