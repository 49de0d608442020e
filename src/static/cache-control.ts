// Cache-Control by file pattern (nginx `location ~* \.(css|js)$ { expires 1y; }`), first match wins.
// Patterns are globs on the path below the root: `*` within a segment, `**` across segments.

export interface CacheRule {
  match: string;
  value: string;
}

export type CacheControlSetting = string | readonly CacheRule[] | undefined;

export function cacheControlFor(setting: CacheControlSetting): (path: string) => string | undefined {
  if (setting === undefined || typeof setting === 'string') return () => setting as string | undefined;
  const rules = setting.map((r) => ({ re: globToRegExp(r.match), value: r.value }));
  return (path) => rules.find((r) => r.re.test(path))?.value;
}

/** `*.css` matches in any directory (a pattern without "/" matches the file name, like .gitignore). */
export function globToRegExp(glob: string): RegExp {
  const anchored = glob.includes('/');
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(anchored ? `^${re.startsWith('/') ? re : '/' + re}$` : `(^|/)${re}$`);
}
