//! Formula text → [`Program`]: a lexer and a recursive-descent parser that emits straight into the
//! constant-folding [`Builder`]. Every error is an [`Error::Formula`] with the 1-based column (in
//! characters) of the offending token.

use super::tape::{Builder, FUNCTION_NAMES, Func, Program, Val};
use crate::error::{Error, Result};

/// Deepest nesting of parentheses, unary signs and exponents accepted; bounds the parser's recursion so a
/// pathological formula gives an error rather than a stack overflow.
const MAX_NESTING: usize = 200;

/// Token kinds.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Num(f64),
    Ident,
    Plus,
    Minus,
    Star,
    Slash,
    Caret,
    LParen,
    RParen,
    End,
}

/// A token with its 1-based column and byte range in the formula.
#[derive(Debug, Clone, Copy)]
struct Token {
    kind: Kind,
    column: usize,
    start: usize,
    end: usize,
}

/// Parses `formula` over `variables` (already validated) into a program.
pub(super) fn parse(formula: &str, variables: &[String]) -> Result<Program> {
    let tokens = lex(formula)?;
    let mut parser = Parser {
        formula,
        variables,
        tokens,
        pos: 0,
        depth: 0,
        builder: Builder::new(variables.len()),
    };
    if parser.peek().kind == Kind::End {
        return Err(parser.error(1, "empty formula: write an expression such as `x^2 - y^2`"));
    }
    let root = parser.expr()?;
    let token = parser.peek();
    match token.kind {
        Kind::End => Ok(parser.builder.finish(root)),
        Kind::RParen => Err(parser.error(token.column, "unmatched `)`: there is no `(` for it to close")),
        _ => Err(parser.error(
            token.column,
            format!(
                "unexpected `{}` after a complete expression: expected an operator (+ - * / ^) or the end \
                 (implicit multiplication is not supported, write `*`)",
                parser.text(token)
            ),
        )),
    }
}

/// Whether `name` is identifier-like: an ASCII letter or `_`, then ASCII letters, digits or `_`.
pub(super) fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn formula_error(formula: &str, column: usize, message: impl Into<String>) -> Error {
    Error::Formula {
        formula: formula.to_string(),
        column,
        message: message.into(),
    }
}

/// Splits the formula into tokens, ending with [`Kind::End`] one column past the last character.
fn lex(formula: &str) -> Result<Vec<Token>> {
    let chars: Vec<(usize, char)> = formula.char_indices().collect();
    let byte_at = |i: usize| chars.get(i).map_or(formula.len(), |&(b, _)| b);
    let is_digit_at = |i: usize| chars.get(i).is_some_and(|&(_, c)| c.is_ascii_digit());
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let (start, c) = chars[i];
        let column = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let single = match c {
            '+' => Some(Kind::Plus),
            '-' | '\u{2212}' => Some(Kind::Minus),
            '*' => Some(Kind::Star),
            '/' => Some(Kind::Slash),
            '^' => Some(Kind::Caret),
            '(' => Some(Kind::LParen),
            ')' => Some(Kind::RParen),
            _ => None,
        };
        let first = i;
        let kind = if let Some(kind) = single {
            i += 1;
            kind
        } else if c.is_ascii_digit() || (c == '.' && is_digit_at(i + 1)) {
            while is_digit_at(i) {
                i += 1;
            }
            if chars.get(i).is_some_and(|&(_, c)| c == '.') {
                i += 1;
                while is_digit_at(i) {
                    i += 1;
                }
            }
            if chars.get(i).is_some_and(|&(_, c)| c == 'e' || c == 'E') {
                let signed = chars.get(i + 1).is_some_and(|&(_, c)| c == '+' || c == '-');
                let digits = if signed { i + 2 } else { i + 1 };
                if is_digit_at(digits) {
                    i = digits;
                    while is_digit_at(i) {
                        i += 1;
                    }
                }
            }
            let text = &formula[start..byte_at(i)];
            match text.parse::<f64>() {
                Ok(v) if v.is_finite() => Kind::Num(v),
                _ => {
                    return Err(formula_error(
                        formula,
                        column,
                        format!("number `{text}` does not fit in an f64"),
                    ));
                }
            }
        } else if c.is_ascii_alphabetic() || c == '_' {
            while chars
                .get(i)
                .is_some_and(|&(_, c)| c.is_ascii_alphanumeric() || c == '_')
            {
                i += 1;
            }
            Kind::Ident
        } else {
            return Err(formula_error(
                formula,
                column,
                format!("unexpected character `{c}`: allowed are numbers, names, + - * / ^ and parentheses"),
            ));
        };
        tokens.push(Token {
            kind,
            column: first + 1,
            start,
            end: byte_at(i),
        });
    }
    let end = chars.len() + 1;
    tokens.push(Token {
        kind: Kind::End,
        column: end,
        start: formula.len(),
        end: formula.len(),
    });
    Ok(tokens)
}

struct Parser<'a> {
    formula: &'a str,
    variables: &'a [String],
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
    builder: Builder,
}

impl Parser<'_> {
    fn peek(&self) -> Token {
        self.tokens[self.pos.min(self.tokens.len() - 1)]
    }

    fn advance(&mut self) -> Token {
        let t = self.peek();
        if t.kind != Kind::End {
            self.pos += 1;
        }
        t
    }

    fn text(&self, t: Token) -> &str {
        &self.formula[t.start..t.end]
    }

    fn error(&self, column: usize, message: impl Into<String>) -> Error {
        formula_error(self.formula, column, message)
    }

    /// expr := term (('+' | '-') term)*
    fn expr(&mut self) -> Result<Val> {
        let mut left = self.term()?;
        loop {
            match self.peek().kind {
                Kind::Plus => {
                    self.advance();
                    let right = self.term()?;
                    left = self.builder.add(left, right);
                }
                Kind::Minus => {
                    self.advance();
                    let right = self.term()?;
                    left = self.builder.sub(left, right);
                }
                _ => return Ok(left),
            }
        }
    }

    /// term := unary (('*' | '/') unary)*
    fn term(&mut self) -> Result<Val> {
        let mut left = self.unary()?;
        loop {
            match self.peek().kind {
                Kind::Star => {
                    self.advance();
                    let right = self.unary()?;
                    left = self.builder.mul(left, right);
                }
                Kind::Slash => {
                    self.advance();
                    let right = self.unary()?;
                    left = self.builder.div(left, right);
                }
                _ => return Ok(left),
            }
        }
    }

    /// unary := ('-' | '+') unary | power. Every recursion passes here, so the nesting bound lives here.
    fn unary(&mut self) -> Result<Val> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            let column = self.peek().column;
            return Err(self.error(column, format!("formula nested deeper than {MAX_NESTING} levels")));
        }
        let value = match self.peek().kind {
            Kind::Minus => {
                self.advance();
                let v = self.unary()?;
                self.builder.neg(v)
            }
            Kind::Plus => {
                self.advance();
                self.unary()?
            }
            _ => self.power()?,
        };
        self.depth -= 1;
        Ok(value)
    }

    /// power := primary ('^' unary)?  — right-associative, and tighter than a leading unary minus.
    fn power(&mut self) -> Result<Val> {
        let base = self.primary()?;
        if self.peek().kind == Kind::Caret {
            self.advance();
            let exponent = self.unary()?;
            return Ok(self.builder.pow(base, exponent));
        }
        Ok(base)
    }

    /// primary := number | variable | constant | function '(' expr ')' | '(' expr ')'
    fn primary(&mut self) -> Result<Val> {
        let token = self.advance();
        match token.kind {
            Kind::Num(v) => Ok(Val::Const(v)),
            Kind::LParen => {
                let inner = self.expr()?;
                self.close(token)?;
                Ok(inner)
            }
            Kind::Ident => self.name(token),
            Kind::End => Err(self.error(
                token.column,
                "the formula ends where a number, variable, function or `(` is expected",
            )),
            _ => Err(self.error(
                token.column,
                format!(
                    "expected a number, variable, function or `(`, found `{}`",
                    self.text(token)
                ),
            )),
        }
    }

    /// Consumes the `)` matching `open`.
    fn close(&mut self, open: Token) -> Result<()> {
        let token = self.peek();
        match token.kind {
            Kind::RParen => {
                self.advance();
                Ok(())
            }
            Kind::End => Err(self.error(
                token.column,
                format!("missing `)` to close the `(` at column {}", open.column),
            )),
            _ => Err(self.error(
                token.column,
                format!(
                    "expected an operator or the `)` closing the `(` at column {}, found `{}`",
                    open.column,
                    self.text(token)
                ),
            )),
        }
    }

    /// A name: variable (shadowing the constants), constant `pi` / `e`, or function call.
    fn name(&mut self, token: Token) -> Result<Val> {
        let name = self.text(token);
        let called = self.peek().kind == Kind::LParen;
        if let Some(k) = self.variables.iter().position(|v| v == name) {
            return Ok(self.builder.var(k));
        }
        if let Some(f) = Func::from_name(name) {
            if !called {
                return Err(self.error(
                    token.column,
                    format!("function `{name}` needs its argument in parentheses, e.g. `{name}(x)`"),
                ));
            }
            let open = self.advance();
            let argument = self.expr()?;
            self.close(open)?;
            return Ok(self.builder.func(f, argument));
        }
        if called {
            return Err(self.error(
                token.column,
                format!(
                    "unknown function `{name}`; allowed functions: {}",
                    FUNCTION_NAMES.join(", ")
                ),
            ));
        }
        match name {
            "pi" => Ok(Val::Const(std::f64::consts::PI)),
            "e" => Ok(Val::Const(std::f64::consts::E)),
            _ => Err(self.error(
                token.column,
                format!(
                    "unknown variable `{name}`; declared variables: {} (constants: pi, e)",
                    self.variables.join(", ")
                ),
            )),
        }
    }
}
