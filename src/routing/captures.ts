// `$1`…`$9` and `$<name>` in rewrite and redirect templates refer to a regex match's captures
// (nginx's and JavaScript's replacement syntax). Unknown references expand to "".

export function expand(template: string, captures: RegExpExecArray | null): string {
  if (captures === null || !template.includes('$')) return template;
  return template.replace(/\$(\d)|\$<(\w+)>/g, (_, digit: string | undefined, name: string | undefined) =>
    (digit !== undefined ? captures[Number(digit)] : captures.groups?.[name!]) ?? '');
}
