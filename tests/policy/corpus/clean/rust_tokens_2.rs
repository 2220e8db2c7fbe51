pub struct Lexer<'a> { src: &'a str }

impl<'a> Lexer<'a> {
    pub fn next_token(&mut self) -> Option<Token> {
        let token = self.peek()?;
        Some(token)
    }
}

const MAX_TOKEN_LEN: usize = 256;
let secret_len = secret.len();
