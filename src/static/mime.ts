// Content types for the extensions a site commonly serves; text types carry a charset.
const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8', htm: 'text/html; charset=utf-8', css: 'text/css; charset=utf-8',
  js: 'text/javascript; charset=utf-8', mjs: 'text/javascript; charset=utf-8', json: 'application/json',
  txt: 'text/plain; charset=utf-8', md: 'text/markdown; charset=utf-8', xml: 'application/xml',
  svg: 'image/svg+xml', png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif',
  webp: 'image/webp', avif: 'image/avif', ico: 'image/x-icon', woff: 'font/woff', woff2: 'font/woff2',
  ttf: 'font/ttf', otf: 'font/otf', pdf: 'application/pdf', wasm: 'application/wasm', map: 'application/json',
  webmanifest: 'application/manifest+json', mp4: 'video/mp4', webm: 'video/webm', mp3: 'audio/mpeg',
  zip: 'application/zip', gz: 'application/gzip', csv: 'text/csv; charset=utf-8',
};

export function contentType(file: string): string {
  const dot = file.lastIndexOf('.');
  return (dot === -1 ? undefined : TYPES[file.slice(dot + 1).toLowerCase()]) ?? 'application/octet-stream';
}
