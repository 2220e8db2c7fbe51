export interface Token { kind: string; text: string }

export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let token = '';
  for (const ch of source) {
    if (ch === ' ') { tokens.push({ kind: 'word', text: token }); token = ''; } else { token += ch; }
  }
  return tokens;
}

const tokenType = 'bearer';
const refreshTokenKey = 'refresh_token';
