//! The formula language of `SwissKnife`, `IntSwissKnife`, `Converter` and `IntConverter`
//! nodes.
//!
//! A formula is parsed once, at load time, into flat postfix programs ([`Formula`]) and then
//! evaluated as often as needed with [`Formula::eval`], which does not allocate (for any
//! formula whose operand stack fits in 32 slots, i.e. every real-world formula) and takes
//! some 20-30 ns for a typical formula.
//!
//! Everything below was established by evaluating formulas in the reference implementation
//! (the official GenApi 3.x, through its Python binding `genicam` 1.6.0), including a
//! randomized differential test of some 30 000 generated formulas; `tests/formula_table.txt`
//! records confirmed cases and `tests/formula_reference.py` re-checks them against the
//! reference. The reference parser is a single-pass operator-precedence parser (derived from
//! the CCalc/MathParser library) with several accidents; this module reproduces its results,
//! and rejects with an error the few constructs where the reference fails or computes
//! nonsense. The language is *not* C: read the precedence table.
//!
//! # Modes
//!
//! The language depends on the [`Mode`]. [`Formula::parse`] compiles for both modes (the
//! node evaluator picks one at evaluation); [`Formula::parse_mode`] for one.
//!
//! * [`Mode::Float`] (`SwissKnife`, `Converter`): values are `f64`.
//! * [`Mode::Int`] (`IntSwissKnife`, `IntConverter`): values are `i64`. Integer mode knows
//!   only the functions `SGN` and `NEG`, no constants (`PI` and `E` are ordinary identifiers,
//!   hence variables if declared) and only integer literals.
//!
//! # Lexical structure
//!
//! * Whitespace: space, tab, CR, LF, anywhere between tokens. Any other character that is
//!   not part of a token (`!`, `;`, `#`, `$`, brackets, non-ASCII, ...) is an error.
//! * Identifiers: `[A-Za-z_.][A-Za-z0-9_.]*`. Dots are part of the identifier, so `X.Min`
//!   or `.5` are single identifiers; the caller decides what a dotted name means.
//!   Variable names are case sensitive; function names and the constants are not. In float
//!   mode the built-in names (functions, `PI`, `E`) win over variables of the same name.
//! * Integer mode literals: decimal digits (leading zeros are *not* octal), or `0x` (lower
//!   case `x` only) followed by hex digits of either case. Values beyond `i64::MAX`
//!   saturate to `i64::MAX` (C `strtoll`), so `-9223372036854775808` is `-i64::MAX`. A
//!   literal immediately followed by a letter, digit, `_` or `.` is an error, so `1.5`,
//!   `1e3` and `0X10` are errors.
//! * Float mode literals: `0x` + hex digits is read as an *unsigned 64-bit* integer
//!   (saturating) whose low 32 bits are then taken as a *signed 32-bit* integer:
//!   `0xFFFFFFFF` is `-1.0`, `0x100000000` is `0.0`. `0X` (upper case) starts a C99 hex
//!   float instead (`0X1.8p1` = 3, `0X100000000` = 4294967296). Decimal literals follow
//!   `strtod`: `1`, `1.`, `1.5`, `1e3`, `1.5E-2`, `1e400` (= inf); a leading dot (`.5`) is
//!   not a number (it is an identifier). An exponent marker without digits is not part of
//!   the number, and the identifier character after the number is an error (`1e`, `1e+`;
//!   the reference evaluates `1e+` as `1+E` by accident).
//! * Operators: `? : || && = <> < <= > >= + - * / % ** << >> & | ^ ~ ( ) ,`.
//!   There is no `!`, `==` or `!=` (errors).
//!
//! # Grammar and precedence (loosest first)
//!
//! | level | operators | associativity |
//! |---|---|---|
//! | 1 | `? :`  together with `\|\| && = <> < <= > >=` | left, all on one level |
//! | 2 | `+ -` | left |
//! | 3 | `* / %` | left |
//! | 4 | `** << >> & \| ^` | left, all on one level |
//! | 5 | unary `~`, `+`, `-`, function calls | prefix |
//!
//! Consequences: `1+2<<1` is 5, `6&3=2` is 1, `2*3&1+1` is 3, `2**3**2` is 64,
//! `1<2<3` is 1, `1 = 2 || 3 = 3` is `((1=2)||3)=3` = 0, `1 ? 2 : 3 = 3` is
//! `(1?2:3)=3` = 0.
//!
//! The ternary operator sits on level 1 and is left associative: `a ? b : c ? d : e` is
//! `(a ? b : c) ? d : e`, so `(0=0) ? 1 : (0=1) ? 2 : 3` is 2. Its *then* operand is a
//! level-2 expression optionally combined with level-1 binary operators, but no `?` outside
//! parentheses (`1?0?7:8:9` is an error); its *else* operand is one level-2 expression.
//!
//! Unary minus comes in two flavours:
//! * directly followed by a number literal or a variable, it negates that operand and binds
//!   tighter than everything: `-2**2` = 4, `-A**2` = `(-A)**2`;
//! * followed by anything else (`(`, a function, `PI`, `E`, `~`) it is a *low-priority*
//!   construct: it negates everything up to the end of the enclosing group (parenthesis,
//!   function argument or formula): `-(2)+5` = -7, `-SGN(3)+5` = -6, `5*-(2)+1` = -15,
//!   `-PI+1` = -(PI+1), `-(1)?2:3` = -2.
//!
//! A unary `+` is a no-op. A unary `+` or `-` directly after a `+` or `-` (binary or unary)
//! or directly after a function name is an error (`--3`, `2--3`, `2+-3`, `- -3`, `SGN -3`),
//! while `2*-3`, `2**-1`, `~-1`, `-~1`, `2=-3` are fine.
//!
//! Functions are called as `NAME(arg)` (`ROUND` takes one or two arguments, every other
//! function exactly one). A function name *not* followed by `(` is the other low-priority
//! construct: its argument is everything up to the end of the enclosing group:
//! `NEG 3+1` = -4, `SQRT 4 + 5` = 3, `ROUND 2.44, 1` = 2.4. `PI()` and `E()` are accepted.
//! Float mode functions: `SIN COS TAN ASIN ACOS ATAN ABS SGN NEG EXP LN LG SQRT TRUNC ROUND
//! FLOOR CEIL`; integer mode: `SGN NEG`; anything else (`MIN`, `MAX`, `POW`, `ATAN2`, ...)
//! is an unknown identifier.
//!
//! Low-priority constructs have two more effects, both reproduced:
//! * When the content of a parenthesis (plain, or the last argument of a call) contains
//!   one, the closing `)` only ends the construct; the content goes on, in its pending
//!   operator context, to the end of the enclosing group: `2 * (-(1)) + 5` is
//!   `2 * (-(1) + 5)` = 8, `NEG(-(1))+5` is `NEG(-(1)+5)` = -4,
//!   `NEG(2 - (SGN 1)) * 3` is `NEG(2 - (SGN 1) * 3)` = 1. (A content without them is
//!   ordinary: `NEG(3)+1` = -2, `(-2)+1` = -1.)
//! * One inside the *then* operand of `?:`, even inside parentheses there, is an error
//!   (`1?-(2):3`, `1?(-(A)):3`, `1?NEG 2:3`). (The reference accepts some of these when the
//!   whole `?:` is itself the argument of a parenthesis-less function, e.g. `SGN 1?-(2):5`;
//!   we reject them.)
//!
//! `~` is mis-parsed by the reference in two placements, which we reject with
//! [`FormulaError::Unsupported`]: directly after a level-4 operator (`A | ~B` fails,
//! `7 & ~1` gives -2, `2 ** ~2` gives -5; write `A | (~B)`), and an even-length run of `~`
//! not followed by a number literal (`~~A` fails; `~~5`, `~~~A` are fine).
//!
//! Identifiers, numbers and `)` cannot be juxtaposed (`2PI`, `1 2`, `(2)(3)` are errors;
//! the reference accepts some juxtapositions such as `E~` by accident).
//!
//! # Evaluation
//!
//! Both operands of every operator, all three operands of `?:` and both operands of `&&`
//! and `||` are always evaluated (no short circuit): `1 ? 2 : 1/0` is a division-by-zero
//! error. Truth is "not equal to zero" (a float NaN is true); comparisons and logical
//! operators yield 1 or 0.
//!
//! Integer mode:
//! * `+ - *`, unary `-`, `NEG` wrap around; `/` truncates toward zero and `%` takes the
//!   sign of the dividend; division or remainder by zero is [`FormulaError::DivisionByZero`].
//!   `i64::MIN / -1` and `i64::MIN % -1` crash the reference (SIGFPE); here they wrap
//!   (giving `i64::MIN` and 0).
//! * `<<` and `>>` (arithmetic) use the shift count modulo 64 (`1<<64` = 1, `1<<-1` =
//!   `i64::MIN`).
//! * `a ** b` is the exact power when it fits in `i64` and `i64::MIN` when it overflows
//!   (`2**63`, `3**40`, `10**19`); for `b < 0` it is the truncated real result (`2**-1` = 0,
//!   `(-1)**-1` = -1) and `0**-1` is `i64::MIN`.
//! * A [`Num::Float`] variable is converted with [`float_to_int`] (round half away from
//!   zero, error when beyond the `i64` range).
//!
//! Float mode:
//! * `/` and `%` (C `fmod`) by a divisor whose magnitude is below `f64::EPSILON`
//!   (2.22e-16, including ±0) are [`FormulaError::DivisionByZero`] (`1/1e-16` fails,
//!   `1/2.220446049250313e-16` does not); every other IEEE special value flows through
//!   (`0**-1` = inf, `LN(0)` = -inf, `SQRT(-1)` = NaN, `1e308*10` = inf, `2/SQRT(-1)` = NaN).
//! * `& | ^ ~ << >>` work on *32-bit* signed integers: each operand must lie in
//!   `[-2147483648, 2147483647]` (else [`FormulaError::BitOperandOutOfRange`], also for NaN
//!   and infinities) and is truncated toward zero; shift counts are taken modulo 32
//!   (`1<<31` = -2147483648, `1<<32` = 1); the 32-bit result is returned.
//! * `=` and `<>` compare exactly (`0.1+0.2=0.3` is 0).
//! * `ROUND(x)` rounds half away from zero as `floor(|x| + 0.5)` with the sign of `x`
//!   (so `ROUND(0.49999999999999994)` is 1). `ROUND(x, n)` truncates `n` to a 32-bit integer
//!   (NaN and out-of-range counts become `i32::MIN`), multiplies `x` by 10 `n` times (divides
//!   for negative `n`), rounds as above, and divides by 10 `n` times again, one step at a
//!   time: `ROUND(3.14159, 2)` is 3.1399999999999997 and `ROUND(1.15, 1)` is 1.2.
//! * `SGN` gives -1, 0 or 1 (0 for NaN), `NEG(x)` is `-x`, `ABS`, `TRUNC`, `FLOOR`, `CEIL`,
//!   `SQRT`, `EXP` and the trigonometric functions are the C functions, `LN` is `log`,
//!   `LG` is `log10`.
//!
//! The reference reports parse errors only when the node is first read; here they are
//! reported by [`Formula::parse`] (both modes failing) or kept per mode
//! ([`Formula::parse_error`]) and returned by [`Formula::eval`].

use std::fmt;

/// A value flowing through a formula.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Num {
    /// A 64-bit signed integer (value of an integer node).
    Int(i64),
    /// A double (value of a float node).
    Float(f64),
}

impl Num {
    /// The value as a double (an integer converts exactly or to the nearest double).
    pub fn to_f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        }
    }

    /// The value as an integer, converting a float the way the reference reads a float
    /// node through an integer reference ([`float_to_int`]).
    pub fn to_i64(self) -> Result<i64, FormulaError> {
        match self {
            Num::Int(i) => Ok(i),
            Num::Float(f) => float_to_int(f),
        }
    }
}

impl From<i64> for Num {
    fn from(v: i64) -> Self {
        Num::Int(v)
    }
}

impl From<f64> for Num {
    fn from(v: f64) -> Self {
        Num::Float(v)
    }
}

impl fmt::Display for Num {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Num::Int(i) => write!(f, "{i}"),
            Num::Float(x) => write!(f, "{x}"),
        }
    }
}

/// Integer (`IntSwissKnife`, `IntConverter`) or float (`SwissKnife`, `Converter`) formula.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// 64-bit signed integer evaluation.
    Int,
    /// Double evaluation.
    Float,
}

impl Mode {
    fn other(self) -> Mode {
        match self {
            Mode::Int => Mode::Float,
            Mode::Float => Mode::Int,
        }
    }
}

/// Errors of parsing (carrying the byte offset in the source) and of evaluation.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum FormulaError {
    /// The formula has no tokens.
    #[error("empty formula")]
    Empty,
    /// A character that starts no token.
    #[error("unexpected character {found:?} at byte offset {offset}")]
    UnexpectedChar {
        /// Byte offset of the character.
        offset: usize,
        /// The character.
        found: char,
    },
    /// A malformed number literal (or one not allowed in this mode).
    #[error("malformed number at byte offset {offset}: {reason}")]
    BadNumber {
        /// Byte offset of the literal.
        offset: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// A token where another was expected.
    #[error("unexpected {found} at byte offset {offset}, expected {expected}")]
    Syntax {
        /// Byte offset of the offending token.
        offset: usize,
        /// Description of the offending token.
        found: String,
        /// What was expected there.
        expected: &'static str,
    },
    /// An identifier that is neither a variable, a function nor a constant.
    #[error("unknown identifier `{name}` at byte offset {offset}")]
    UnknownIdentifier {
        /// Byte offset of the identifier.
        offset: usize,
        /// The identifier.
        name: String,
    },
    /// A function called with the wrong number of arguments.
    #[error(
        "function {function} at byte offset {offset} takes {expected} argument(s), got {found}"
    )]
    ArgumentCount {
        /// Byte offset of the function name.
        offset: usize,
        /// The function (upper case).
        function: &'static str,
        /// Accepted argument counts.
        expected: &'static str,
        /// Given argument count.
        found: usize,
    },
    /// A construct the reference GenApi rejects although it looks meaningful.
    #[error("{what} at byte offset {offset} (rejected by the reference GenApi)")]
    Unsupported {
        /// Byte offset of the construct.
        offset: usize,
        /// Description.
        what: &'static str,
    },
    /// Parentheses / unary operators nested too deeply.
    #[error("formula nested too deeply at byte offset {offset}")]
    TooDeep {
        /// Byte offset where the limit was reached.
        offset: usize,
    },
    /// Division or remainder by zero, in float mode by any divisor smaller in magnitude
    /// than `f64::EPSILON` (the reference's "#Infinity somewhere!").
    #[error("division by zero")]
    DivisionByZero,
    /// Float mode bit operation with an operand outside the 32-bit signed range (the
    /// reference's "#Value too big for operation!").
    #[error("operand {value} of a bit operation is outside the 32-bit integer range")]
    BitOperandOutOfRange {
        /// The operand.
        value: f64,
    },
    /// A float value that cannot be read as a 64-bit integer.
    #[error("float value {value} is out of the 64-bit integer range")]
    FloatOutOfIntRange {
        /// The value.
        value: f64,
    },
    /// The formula was parsed with [`Formula::parse_mode`] for the other mode.
    #[error("formula was not parsed for {mode:?} mode")]
    NotParsedForMode {
        /// The mode asked for.
        mode: Mode,
    },
    /// [`Formula::eval`] was given fewer values than [`Formula::variables`].
    #[error("formula needs {expected} variable values, got {found}")]
    MissingVariables {
        /// Number of variables of the formula.
        expected: usize,
        /// Number of values given.
        found: usize,
    },
}

impl FormulaError {
    /// The byte offset in the source, for parse errors.
    pub fn offset(&self) -> Option<usize> {
        match self {
            FormulaError::UnexpectedChar { offset, .. }
            | FormulaError::BadNumber { offset, .. }
            | FormulaError::Syntax { offset, .. }
            | FormulaError::UnknownIdentifier { offset, .. }
            | FormulaError::ArgumentCount { offset, .. }
            | FormulaError::Unsupported { offset, .. }
            | FormulaError::TooDeep { offset } => Some(*offset),
            FormulaError::Empty => Some(0),
            _ => None,
        }
    }
}

/// Converts a float to an integer the way the reference reads a float node through an
/// integer reference (`CIntegerPolyRef`), e.g. a `Float` variable of an `IntSwissKnife`:
/// round half away from zero as `floor(|x| + 0.5)` with the sign of `x`, then convert like
/// the x86 instruction (NaN and exactly 2^63 give `i64::MIN`). Values above 2^63 or below
/// -2^63 (including infinities) are [`FormulaError::FloatOutOfIntRange`].
pub fn float_to_int(value: f64) -> Result<i64, FormulaError> {
    // 2^63. NaN passes (and converts to i64::MIN), as in the reference.
    const LIM: f64 = 9_223_372_036_854_775_808.0;
    if value.abs() > LIM {
        return Err(FormulaError::FloatOutOfIntRange { value });
    }
    Ok(x86_f64_to_i64(round_half_away(value)))
}

/// `cvttsd2si` with a 64-bit destination: truncation, `i64::MIN` when out of range or NaN.
fn x86_f64_to_i64(v: f64) -> i64 {
    const LIM: f64 = 9_223_372_036_854_775_808.0;
    if (-LIM..LIM).contains(&v) {
        v as i64
    } else {
        i64::MIN
    }
}

/// `cvttsd2si` with a 32-bit destination: truncation, `i32::MIN` when out of range or NaN.
fn x86_f64_to_i32(v: f64) -> i32 {
    let t = v.trunc();
    if (-2_147_483_648.0..=2_147_483_647.0).contains(&t) {
        t as i32
    } else {
        i32::MIN
    }
}

/// The reference's rounding: `floor(|x| + 0.5)` with the sign of `x`.
fn round_half_away(x: f64) -> f64 {
    if x >= 0.0 {
        (x + 0.5).floor()
    } else {
        -((-x + 0.5).floor())
    }
}

/// `ROUND(x, n)` of the reference (see the module documentation).
fn round_digits(x: f64, n: f64) -> f64 {
    let n = x86_f64_to_i32(n);
    // After 2000 steps any finite non-zero value has become infinite (going up) or zero
    // (going down) and stays so, hence the cap changes no result.
    let steps = n.unsigned_abs().min(2000);
    let mut v = x;
    for _ in 0..steps {
        if n >= 0 {
            v *= 10.0;
        } else {
            v /= 10.0;
        }
    }
    v = round_half_away(v);
    for _ in 0..steps {
        if n >= 0 {
            v /= 10.0;
        } else {
            v *= 10.0;
        }
    }
    v
}

/// Built-in functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Func {
    Sin,
    Cos,
    Tan,
    Asin,
    Acos,
    Atan,
    Abs,
    Sgn,
    Neg,
    Exp,
    Ln,
    Lg,
    Sqrt,
    Trunc,
    Round,
    Floor,
    Ceil,
}

const FUNCS: [(&str, Func); 17] = [
    ("SIN", Func::Sin),
    ("COS", Func::Cos),
    ("TAN", Func::Tan),
    ("ASIN", Func::Asin),
    ("ACOS", Func::Acos),
    ("ATAN", Func::Atan),
    ("ABS", Func::Abs),
    ("SGN", Func::Sgn),
    ("NEG", Func::Neg),
    ("EXP", Func::Exp),
    ("LN", Func::Ln),
    ("LG", Func::Lg),
    ("SQRT", Func::Sqrt),
    ("TRUNC", Func::Trunc),
    ("ROUND", Func::Round),
    ("FLOOR", Func::Floor),
    ("CEIL", Func::Ceil),
];

impl Func {
    fn lookup(name: &str, mode: Mode) -> Option<Func> {
        let f = FUNCS
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|&(_, f)| f)?;
        match mode {
            Mode::Float => Some(f),
            Mode::Int => matches!(f, Func::Sgn | Func::Neg).then_some(f),
        }
    }

    fn name(self) -> &'static str {
        FUNCS
            .iter()
            .find(|&&(_, f)| f == self)
            .map_or("?", |&(n, _)| n)
    }

    fn apply_f64(self, x: f64) -> f64 {
        match self {
            Func::Sin => x.sin(),
            Func::Cos => x.cos(),
            Func::Tan => x.tan(),
            Func::Asin => x.asin(),
            Func::Acos => x.acos(),
            Func::Atan => x.atan(),
            Func::Abs => x.abs(),
            Func::Sgn => {
                if x > 0.0 {
                    1.0
                } else if x < 0.0 {
                    -1.0
                } else {
                    0.0
                }
            }
            Func::Neg => -x,
            Func::Exp => x.exp(),
            Func::Ln => x.ln(),
            Func::Lg => x.log10(),
            Func::Sqrt => x.sqrt(),
            Func::Trunc => x.trunc(),
            Func::Round => round_half_away(x),
            Func::Floor => x.floor(),
            Func::Ceil => x.ceil(),
        }
    }

    fn apply_i64(self, x: i64) -> i64 {
        match self {
            Func::Sgn => x.signum(),
            Func::Neg => x.wrapping_neg(),
            Func::Abs => x.wrapping_abs(),
            // Never emitted in integer mode (the parser only knows SGN and NEG there).
            _ => x,
        }
    }
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bin {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Pow,
    Shl,
    Shr,
    And,
    Or,
    Xor,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    LAnd,
    LOr,
}

impl Bin {
    fn eval_i64(self, a: i64, b: i64) -> Result<i64, FormulaError> {
        Ok(match self {
            Bin::Add => a.wrapping_add(b),
            Bin::Sub => a.wrapping_sub(b),
            Bin::Mul => a.wrapping_mul(b),
            Bin::Div => {
                if b == 0 {
                    return Err(FormulaError::DivisionByZero);
                }
                a.wrapping_div(b)
            }
            Bin::Rem => {
                if b == 0 {
                    return Err(FormulaError::DivisionByZero);
                }
                a.wrapping_rem(b)
            }
            Bin::Pow => int_pow(a, b),
            // `as u32` keeps the low bits; wrapping_shl/shr then take them modulo 64.
            Bin::Shl => a.wrapping_shl(b as u32),
            Bin::Shr => a.wrapping_shr(b as u32),
            Bin::And => a & b,
            Bin::Or => a | b,
            Bin::Xor => a ^ b,
            Bin::Eq => i64::from(a == b),
            Bin::Ne => i64::from(a != b),
            Bin::Lt => i64::from(a < b),
            Bin::Le => i64::from(a <= b),
            Bin::Gt => i64::from(a > b),
            Bin::Ge => i64::from(a >= b),
            Bin::LAnd => i64::from(a != 0 && b != 0),
            Bin::LOr => i64::from(a != 0 || b != 0),
        })
    }

    fn eval_f64(self, a: f64, b: f64) -> Result<f64, FormulaError> {
        let t = |c: bool| if c { 1.0 } else { 0.0 };
        Ok(match self {
            Bin::Add => a + b,
            Bin::Sub => a - b,
            Bin::Mul => a * b,
            // The reference rejects any divisor smaller in magnitude than DBL_EPSILON.
            Bin::Div => {
                if b.abs() < f64::EPSILON {
                    return Err(FormulaError::DivisionByZero);
                }
                a / b
            }
            Bin::Rem => {
                if b.abs() < f64::EPSILON {
                    return Err(FormulaError::DivisionByZero);
                }
                a % b
            }
            Bin::Pow => a.powf(b),
            Bin::Shl => f64::from(bit_operand(a)?.wrapping_shl(bit_operand(b)? as u32)),
            Bin::Shr => f64::from(bit_operand(a)?.wrapping_shr(bit_operand(b)? as u32)),
            Bin::And => f64::from(bit_operand(a)? & bit_operand(b)?),
            Bin::Or => f64::from(bit_operand(a)? | bit_operand(b)?),
            Bin::Xor => f64::from(bit_operand(a)? ^ bit_operand(b)?),
            Bin::Eq => t(a == b),
            Bin::Ne => t(a != b),
            Bin::Lt => t(a < b),
            Bin::Le => t(a <= b),
            Bin::Gt => t(a > b),
            Bin::Ge => t(a >= b),
            Bin::LAnd => t(a != 0.0 && b != 0.0),
            Bin::LOr => t(a != 0.0 || b != 0.0),
        })
    }
}

/// Float mode operand of a bit operation: truncated 32-bit integer, range checked.
fn bit_operand(x: f64) -> Result<i32, FormulaError> {
    if (-2_147_483_648.0..=2_147_483_647.0).contains(&x) {
        Ok(x as i32)
    } else {
        Err(FormulaError::BitOperandOutOfRange { value: x })
    }
}

/// Integer mode `**` (see the module documentation).
fn int_pow(a: i64, b: i64) -> i64 {
    match a {
        0 => match b {
            0 => 1,
            b if b < 0 => i64::MIN,
            _ => 0,
        },
        1 => 1,
        -1 => {
            if b & 1 == 0 {
                1
            } else {
                -1
            }
        }
        _ if b < 0 => 0,
        _ => u32::try_from(b)
            .ok()
            .and_then(|e| a.checked_pow(e))
            .unwrap_or(i64::MIN),
    }
}

/// One instruction of the postfix program.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Int(i64),
    Float(f64),
    Var(u32),
    Neg,
    Not,
    Bin(Bin),
    Call(Func),
    Round2,
    Select,
}

impl Op {
    /// (values popped, values pushed)
    fn stack_effect(self) -> (usize, usize) {
        match self {
            Op::Int(_) | Op::Float(_) | Op::Var(_) => (0, 1),
            Op::Neg | Op::Not | Op::Call(_) => (1, 1),
            Op::Bin(_) | Op::Round2 => (2, 1),
            Op::Select => (3, 1),
        }
    }
}

/// A compiled postfix program for one mode.
#[derive(Debug, Clone)]
struct Program {
    ops: Box<[Op]>,
    /// Maximal operand stack depth.
    stack: usize,
}

/// A parsed formula: one postfix program per mode, over a shared list of variables.
#[derive(Debug, Clone)]
pub struct Formula {
    vars: Vec<String>,
    int: Result<Program, FormulaError>,
    float: Result<Program, FormulaError>,
}

/// Operand stack size evaluated without allocation.
const INLINE_STACK: usize = 32;
/// Maximal nesting of parentheses, function calls and unary operators.
const MAX_DEPTH: usize = 256;

impl Formula {
    /// Parses `src` for both modes. `is_variable(name)` says whether an identifier is a
    /// declared variable (a `pVariable` name or a constant name; dotted names such as
    /// `X.Min` are passed whole). In float mode the function names and `PI` and `E` take
    /// precedence over variables; any other identifier that is not a variable is
    /// [`FormulaError::UnknownIdentifier`].
    ///
    /// The language differs between the modes (integer mode has no float literals, no
    /// constants and only `SGN`/`NEG`), so the formula is compiled once per mode. This
    /// fails only when neither mode accepts the formula (with the float mode's error); a
    /// formula accepted by one mode only returns the other mode's parse error from
    /// [`Formula::eval`] (the reference, too, reports parse errors only when the node is
    /// read) and from [`Formula::parse_error`]. Use [`Formula::parse_mode`] to reject at
    /// once a formula that does not fit its node's mode.
    pub fn parse(src: &str, is_variable: &dyn Fn(&str) -> bool) -> Result<Formula, FormulaError> {
        let mut vars = Vec::new();
        let float = compile(src, Mode::Float, is_variable, &mut vars);
        if float.is_err() {
            vars.clear();
        }
        let keep = vars.len();
        let int = compile(src, Mode::Int, is_variable, &mut vars);
        if int.is_err() {
            vars.truncate(keep);
        }
        match (&int, &float) {
            (Err(_), Err(e)) => Err(e.clone()),
            _ => Ok(Formula { vars, int, float }),
        }
    }

    /// Parses `src` for `mode` only; evaluating the result in the other mode gives
    /// [`FormulaError::NotParsedForMode`].
    pub fn parse_mode(
        src: &str,
        mode: Mode,
        is_variable: &dyn Fn(&str) -> bool,
    ) -> Result<Formula, FormulaError> {
        let mut vars = Vec::new();
        let prog = compile(src, mode, is_variable, &mut vars)?;
        let other = Err(FormulaError::NotParsedForMode { mode: mode.other() });
        Ok(match mode {
            Mode::Int => Formula {
                vars,
                int: Ok(prog),
                float: other,
            },
            Mode::Float => Formula {
                vars,
                int: other,
                float: Ok(prog),
            },
        })
    }

    /// The distinct variable names the formula uses (in either mode), in order of first
    /// use; index `i` is variable slot `i`.
    pub fn variables(&self) -> &[String] {
        &self.vars
    }

    /// The reason the formula cannot be evaluated in `mode`, if any (a parse error).
    pub fn parse_error(&self, mode: Mode) -> Option<&FormulaError> {
        self.program(mode).err()
    }

    fn program(&self, mode: Mode) -> Result<&Program, &FormulaError> {
        match mode {
            Mode::Int => self.int.as_ref(),
            Mode::Float => self.float.as_ref(),
        }
    }

    /// Evaluates in `mode` with `vars[i]` the value of `variables()[i]`. The result is a
    /// [`Num::Int`] in [`Mode::Int`] and a [`Num::Float`] in [`Mode::Float`]. Does not
    /// allocate unless the formula needs more than 32 operand stack slots.
    pub fn eval(&self, mode: Mode, vars: &[Num]) -> Result<Num, FormulaError> {
        let prog = self.program(mode).map_err(Clone::clone)?;
        if vars.len() < self.vars.len() {
            return Err(FormulaError::MissingVariables {
                expected: self.vars.len(),
                found: vars.len(),
            });
        }
        match mode {
            Mode::Int => {
                let r = if prog.stack <= INLINE_STACK {
                    eval_int(&prog.ops, vars, &mut [0; INLINE_STACK])
                } else {
                    eval_int(&prog.ops, vars, &mut vec![0; prog.stack])
                };
                r.map(Num::Int)
            }
            Mode::Float => {
                let r = if prog.stack <= INLINE_STACK {
                    eval_float(&prog.ops, vars, &mut [0.0; INLINE_STACK])
                } else {
                    eval_float(&prog.ops, vars, &mut vec![0.0; prog.stack])
                };
                r.map(Num::Float)
            }
        }
    }
}

/// Compiles `src` for `mode`, adding new variable names to `vars`.
fn compile(
    src: &str,
    mode: Mode,
    is_variable: &dyn Fn(&str) -> bool,
    vars: &mut Vec<String>,
) -> Result<Program, FormulaError> {
    let toks = lex(src, mode)?;
    if toks.len() == 1 {
        return Err(FormulaError::Empty);
    }
    let mut p = Parser {
        src,
        toks,
        pos: 0,
        mode,
        is_variable,
        vars,
        ops: Vec::new(),
        depth: 0,
        then_depth: 0,
        cur: 0,
        max: 0,
        low_priority: 0,
        groups: Vec::new(),
    };
    p.group()?;
    let t = p.peek();
    if t.kind != Tk::End {
        return Err(p.unexpected(t, "an operator or the end of the formula"));
    }
    debug_assert_eq!(p.cur, 1);
    Ok(Program {
        ops: p.ops.into_boxed_slice(),
        stack: p.max,
    })
}

fn eval_int(ops: &[Op], vars: &[Num], st: &mut [i64]) -> Result<i64, FormulaError> {
    let mut sp = 0usize;
    for &op in ops {
        match op {
            Op::Int(v) => {
                st[sp] = v;
                sp += 1;
            }
            Op::Float(v) => {
                st[sp] = float_to_int(v)?;
                sp += 1;
            }
            Op::Var(i) => {
                st[sp] = vars[i as usize].to_i64()?;
                sp += 1;
            }
            Op::Neg => st[sp - 1] = st[sp - 1].wrapping_neg(),
            Op::Not => st[sp - 1] = !st[sp - 1],
            Op::Call(f) => st[sp - 1] = f.apply_i64(st[sp - 1]),
            Op::Bin(b) => {
                sp -= 1;
                st[sp - 1] = b.eval_i64(st[sp - 1], st[sp])?;
            }
            // Never emitted in integer mode.
            Op::Round2 => sp -= 1,
            Op::Select => {
                sp -= 2;
                if st[sp - 1] != 0 {
                    st[sp - 1] = st[sp];
                } else {
                    st[sp - 1] = st[sp + 1];
                }
            }
        }
    }
    Ok(st[0])
}

fn eval_float(ops: &[Op], vars: &[Num], st: &mut [f64]) -> Result<f64, FormulaError> {
    let mut sp = 0usize;
    for &op in ops {
        match op {
            Op::Int(v) => {
                st[sp] = v as f64;
                sp += 1;
            }
            Op::Float(v) => {
                st[sp] = v;
                sp += 1;
            }
            Op::Var(i) => {
                st[sp] = vars[i as usize].to_f64();
                sp += 1;
            }
            Op::Neg => st[sp - 1] = -st[sp - 1],
            Op::Not => st[sp - 1] = f64::from(!bit_operand(st[sp - 1])?),
            Op::Call(f) => st[sp - 1] = f.apply_f64(st[sp - 1]),
            Op::Bin(b) => {
                sp -= 1;
                st[sp - 1] = b.eval_f64(st[sp - 1], st[sp])?;
            }
            Op::Round2 => {
                sp -= 1;
                st[sp - 1] = round_digits(st[sp - 1], st[sp]);
            }
            Op::Select => {
                sp -= 2;
                if st[sp - 1] != 0.0 {
                    st[sp - 1] = st[sp];
                } else {
                    st[sp - 1] = st[sp + 1];
                }
            }
        }
    }
    Ok(st[0])
}

// ---------------------------------------------------------------------------------------
// Lexer

#[derive(Debug, Clone, Copy, PartialEq)]
enum Tk {
    Int(i64),
    Float(f64),
    Ident,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Pow,
    Shl,
    Shr,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    Amp,
    AndAnd,
    Bar,
    OrOr,
    Caret,
    Tilde,
    Question,
    Colon,
    LParen,
    RParen,
    Comma,
    End,
}

#[derive(Debug, Clone, Copy)]
struct Token {
    kind: Tk,
    start: usize,
    end: usize,
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c == b'.'
}

fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'.'
}

fn hex_val(c: u8) -> Option<u32> {
    (c as char).to_digit(16)
}

fn lex(src: &str, mode: Mode) -> Result<Vec<Token>, FormulaError> {
    let b = src.as_bytes();
    let at = |i: usize| b.get(i).copied().unwrap_or(0);
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        let (kind, len) = match c {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b'0'..=b'9' => {
                let (kind, end) = lex_number(src, i, mode)?;
                (kind, end - i)
            }
            c if is_ident_start(c) => {
                let mut j = i + 1;
                while j < b.len() && is_ident_char(b[j]) {
                    j += 1;
                }
                (Tk::Ident, j - i)
            }
            b'+' => (Tk::Plus, 1),
            b'-' => (Tk::Minus, 1),
            b'*' if at(i + 1) == b'*' => (Tk::Pow, 2),
            b'*' => (Tk::Star, 1),
            b'/' => (Tk::Slash, 1),
            b'%' => (Tk::Percent, 1),
            b'<' => match at(i + 1) {
                b'<' => (Tk::Shl, 2),
                b'=' => (Tk::Le, 2),
                b'>' => (Tk::Ne, 2),
                _ => (Tk::Lt, 1),
            },
            b'>' => match at(i + 1) {
                b'>' => (Tk::Shr, 2),
                b'=' => (Tk::Ge, 2),
                _ => (Tk::Gt, 1),
            },
            b'=' => (Tk::Eq, 1),
            b'&' if at(i + 1) == b'&' => (Tk::AndAnd, 2),
            b'&' => (Tk::Amp, 1),
            b'|' if at(i + 1) == b'|' => (Tk::OrOr, 2),
            b'|' => (Tk::Bar, 1),
            b'^' => (Tk::Caret, 1),
            b'~' => (Tk::Tilde, 1),
            b'?' => (Tk::Question, 1),
            b':' => (Tk::Colon, 1),
            b'(' => (Tk::LParen, 1),
            b')' => (Tk::RParen, 1),
            b',' => (Tk::Comma, 1),
            _ => {
                // `i` is always on a character boundary: only ASCII bytes are skipped.
                let found = src
                    .get(i..)
                    .and_then(|s| s.chars().next())
                    .unwrap_or(char::REPLACEMENT_CHARACTER);
                return Err(FormulaError::UnexpectedChar { offset: i, found });
            }
        };
        i += len;
        out.push(Token {
            kind,
            start,
            end: i,
        });
    }
    out.push(Token {
        kind: Tk::End,
        start: b.len(),
        end: b.len(),
    });
    Ok(out)
}

/// Lexes the number literal starting (with a digit) at `start`; returns it and its end.
fn lex_number(src: &str, start: usize, mode: Mode) -> Result<(Tk, usize), FormulaError> {
    let b = src.as_bytes();
    let at = |i: usize| b.get(i).copied().unwrap_or(0);
    let digits_from = |mut j: usize| {
        while at(j).is_ascii_digit() {
            j += 1;
        }
        j
    };
    let (kind, end) =
        if at(start) == b'0' && at(start + 1) == b'x' && hex_val(at(start + 2)).is_some() {
            // strtoll / strtoul base 16, saturating.
            let mut j = start + 2;
            let mut v: u64 = 0;
            let mut overflow = false;
            while let Some(d) = hex_val(at(j)) {
                match v.checked_mul(16).and_then(|v| v.checked_add(u64::from(d))) {
                    Some(n) => v = n,
                    None => overflow = true,
                }
                j += 1;
            }
            let kind = match mode {
                Mode::Int => Tk::Int(if overflow {
                    i64::MAX
                } else {
                    i64::try_from(v).unwrap_or(i64::MAX)
                }),
                Mode::Float => {
                    let v = if overflow { u64::MAX } else { v };
                    // Low 32 bits, as a signed 32-bit integer.
                    Tk::Float(f64::from(v as u32 as i32))
                }
            };
            (kind, j)
        } else if mode == Mode::Float
            && at(start) == b'0'
            && at(start + 1) == b'X'
            && (hex_val(at(start + 2)).is_some()
                || (at(start + 2) == b'.' && hex_val(at(start + 3)).is_some()))
        {
            lex_hex_float(b, start + 2)
        } else {
            let int_end = digits_from(start);
            match mode {
                Mode::Int => {
                    let mut v: i64 = 0;
                    for &d in &b[start..int_end] {
                        v = v
                            .checked_mul(10)
                            .and_then(|v| v.checked_add(i64::from(d - b'0')))
                            .unwrap_or(i64::MAX);
                    }
                    (Tk::Int(v), int_end)
                }
                Mode::Float => {
                    let mut j = int_end;
                    if at(j) == b'.' {
                        j = digits_from(j + 1);
                    }
                    if matches!(at(j), b'e' | b'E') {
                        let k = if matches!(at(j + 1), b'+' | b'-') {
                            j + 2
                        } else {
                            j + 1
                        };
                        if at(k).is_ascii_digit() {
                            j = digits_from(k);
                        }
                    }
                    // The slice is ASCII digits, '.', 'e', sign: valid for f64::from_str.
                    let v = src
                        .get(start..j)
                        .and_then(|s| s.parse::<f64>().ok())
                        .ok_or(FormulaError::BadNumber {
                            offset: start,
                            reason: "unreadable number",
                        })?;
                    (Tk::Float(v), j)
                }
            }
        };
    if is_ident_char(at(end)) {
        return Err(FormulaError::BadNumber {
            offset: start,
            reason: match mode {
                Mode::Int => "a number must not be followed by a letter, digit, '_' or '.' (integer formulas accept only integer literals)",
                Mode::Float => "a number must not be followed by a letter, digit, '_' or '.'",
            },
        });
    }
    Ok((kind, end))
}

/// C99 hex float after the `0X` prefix (at `j`): hex digits, optional `.` and hex digits,
/// optional `p`/`P` exponent (consumed only when digits follow).
fn lex_hex_float(b: &[u8], mut j: usize) -> (Tk, usize) {
    let at = |i: usize| b.get(i).copied().unwrap_or(0);
    let mut mant: u64 = 0;
    let mut exp: i64 = 0;
    let mut sticky = false;
    let mut add_digit = |d: u32, frac: bool, exp: &mut i64| {
        if mant >> 56 == 0 {
            mant = mant * 16 + u64::from(d);
            if frac {
                *exp -= 4;
            }
        } else {
            sticky |= d != 0;
            if !frac {
                *exp += 4;
            }
        }
    };
    while let Some(d) = hex_val(at(j)) {
        add_digit(d, false, &mut exp);
        j += 1;
    }
    if at(j) == b'.' {
        j += 1;
        while let Some(d) = hex_val(at(j)) {
            add_digit(d, true, &mut exp);
            j += 1;
        }
    }
    if matches!(at(j), b'p' | b'P') {
        let (neg, k) = match at(j + 1) {
            b'+' => (false, j + 2),
            b'-' => (true, j + 2),
            _ => (false, j + 1),
        };
        if at(k).is_ascii_digit() {
            let mut e: i64 = 0;
            j = k;
            while at(j).is_ascii_digit() {
                e = (e * 10 + i64::from(at(j) - b'0')).min(1_000_000);
                j += 1;
            }
            exp = exp.saturating_add(if neg { -e } else { e });
        }
    }
    if sticky {
        mant |= 1; // below the rounding position: only breaks ties
    }
    let mut v = mant as f64;
    let mut e = exp.clamp(-5000, 5000) as i32;
    while e > 0 {
        let s = e.min(1000);
        v *= 2f64.powi(s);
        e -= s;
    }
    while e < 0 {
        let s = (-e).min(1000);
        v /= 2f64.powi(s);
        e += s;
    }
    (Tk::Float(v), j)
}

// ---------------------------------------------------------------------------------------
// Parser

/// What an identifier denotes.
enum Class {
    Func(Func),
    Const(f64),
    Var,
    Unknown,
}

struct Parser<'s, 'f, 'v> {
    src: &'s str,
    toks: Vec<Token>,
    pos: usize,
    mode: Mode,
    is_variable: &'f dyn Fn(&str) -> bool,
    vars: &'v mut Vec<String>,
    ops: Vec<Op>,
    /// Current recursion depth (parentheses, calls, unary operators).
    depth: usize,
    /// How many ternary *then* operands enclose the current position.
    then_depth: usize,
    /// Operand stack depth after the ops emitted so far.
    cur: usize,
    /// Maximal operand stack depth.
    max: usize,
    /// Number of low-priority constructs (barrier minus, parenthesis-less call) so far.
    low_priority: usize,
    /// One entry per active `group`; see [`GroupCtx`].
    groups: Vec<GroupCtx>,
}

/// Parse context of one group (formula, parenthesis, argument, low-priority operand).
#[derive(Debug, Clone, Copy)]
struct GroupCtx {
    /// For the content of a parenthesis (of a call or not): `low_priority` when it began.
    paren_low_start: Option<usize>,
    /// The closing `)` has been skipped as transparent.
    paren_consumed: bool,
}

impl Parser<'_, '_, '_> {
    fn peek(&self) -> Token {
        // The token list always ends with End, and pos never passes it.
        self.toks[self.pos.min(self.toks.len() - 1)]
    }

    fn bump(&mut self) -> Token {
        let t = self.peek();
        if t.kind != Tk::End {
            self.pos += 1;
        }
        t
    }

    fn text(&self, t: Token) -> &str {
        self.src.get(t.start..t.end).unwrap_or("")
    }

    fn describe(&self, t: Token) -> String {
        match t.kind {
            Tk::End => "end of formula".to_string(),
            Tk::Int(_) | Tk::Float(_) => format!("number `{}`", self.text(t)),
            Tk::Ident => format!("identifier `{}`", self.text(t)),
            _ => format!("`{}`", self.text(t)),
        }
    }

    fn unexpected(&self, t: Token, expected: &'static str) -> FormulaError {
        FormulaError::Syntax {
            offset: t.start,
            found: self.describe(t),
            expected,
        }
    }

    fn expect(&mut self, kind: Tk, expected: &'static str) -> Result<Token, FormulaError> {
        let t = self.peek();
        if t.kind == kind {
            Ok(self.bump())
        } else {
            Err(self.unexpected(t, expected))
        }
    }

    fn classify(&self, name: &str) -> Class {
        if let Some(f) = Func::lookup(name, self.mode) {
            return Class::Func(f);
        }
        if self.mode == Mode::Float {
            if name.eq_ignore_ascii_case("PI") {
                return Class::Const(std::f64::consts::PI);
            }
            if name.eq_ignore_ascii_case("E") {
                return Class::Const(std::f64::consts::E);
            }
        }
        if (self.is_variable)(name) {
            Class::Var
        } else {
            Class::Unknown
        }
    }

    fn emit(&mut self, op: Op) {
        let (pop, push) = op.stack_effect();
        self.cur = self.cur.saturating_sub(pop) + push;
        self.max = self.max.max(self.cur);
        self.ops.push(op);
    }

    fn emit_var(&mut self, t: Token) {
        let name = self.text(t);
        let slot = match self.vars.iter().position(|v| v == name) {
            Some(i) => i,
            None => {
                self.vars.push(name.to_string());
                self.vars.len() - 1
            }
        };
        self.emit(Op::Var(slot as u32));
    }

    fn emit_literal(&mut self, kind: Tk, negate: bool) {
        match kind {
            Tk::Int(v) => self.emit(Op::Int(if negate { v.wrapping_neg() } else { v })),
            Tk::Float(v) => self.emit(Op::Float(if negate { -v } else { v })),
            _ => {}
        }
    }

    fn enter(&mut self) -> Result<(), FormulaError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(FormulaError::TooDeep {
                offset: self.peek().start,
            });
        }
        Ok(())
    }

    /// A whole (sub)formula: up to `)`, `,` or the end.
    fn group(&mut self) -> Result<(), FormulaError> {
        self.group_in(None).map(|_| ())
    }

    /// The content of a parenthesis (up to its `)`, or a call argument up to `,`), see
    /// [`Parser::skip_transparent`]. Consumes the `)` and returns the number of arguments
    /// (groups separated by `,`, at most `max_args`).
    fn paren_content(&mut self, max_args: usize) -> Result<usize, FormulaError> {
        let mut n = 1;
        loop {
            if self.group_in(Some(self.low_priority))? {
                // `)` already skipped; the group went on to the end of the enclosing one.
                self.expect_group_end()?;
                return Ok(n);
            }
            if n < max_args && self.peek().kind == Tk::Comma {
                self.bump();
                n += 1;
                continue;
            }
            self.expect(Tk::RParen, if max_args > 1 { "`,` or `)`" } else { "`)`" })?;
            return Ok(n);
        }
    }

    /// A group; `paren` is `Some` for the content of a parenthesis. Returns whether its
    /// `)` was skipped as transparent (see [`Parser::skip_transparent`]).
    fn group_in(&mut self, paren: Option<usize>) -> Result<bool, FormulaError> {
        self.enter()?;
        self.groups.push(GroupCtx {
            paren_low_start: paren,
            paren_consumed: false,
        });
        let r = self.level1();
        let ctx = self.groups.pop();
        r?;
        self.depth -= 1;
        Ok(ctx.is_some_and(|c| c.paren_consumed))
    }

    /// Reference quirk: when the content of a parenthesis (plain, or the last argument of a
    /// call) contains a low-priority construct (barrier minus or parenthesis-less call),
    /// its `)` only ends those constructs; the content itself goes on, in its pending
    /// operator context, to the end of the enclosing group: `2 * (-(1)) + 5` is
    /// `2 * (-(1) + 5)`, `NEG(-(1))+5` is `NEG(-(1)+5)` and `NEG(2 - (SGN 1)) * 3` is
    /// `NEG(2 - ((SGN 1) * 3))`. Called by every operator loop before it looks at the next
    /// token.
    fn skip_transparent(&mut self) {
        let low = self.low_priority;
        let at_paren = self.peek().kind == Tk::RParen;
        if let Some(ctx) = self.groups.last_mut() {
            if at_paren
                && !ctx.paren_consumed
                && ctx.paren_low_start.is_some_and(|start| start != low)
            {
                ctx.paren_consumed = true;
                self.pos += 1;
            }
        }
    }

    fn logical_op(kind: Tk) -> Option<Bin> {
        Some(match kind {
            Tk::OrOr => Bin::LOr,
            Tk::AndAnd => Bin::LAnd,
            Tk::Eq => Bin::Eq,
            Tk::Ne => Bin::Ne,
            Tk::Lt => Bin::Lt,
            Tk::Le => Bin::Le,
            Tk::Gt => Bin::Gt,
            Tk::Ge => Bin::Ge,
            _ => return None,
        })
    }

    /// Level 1: `|| && = <> < <= > >=` and `? :`, all left associative.
    fn level1(&mut self) -> Result<(), FormulaError> {
        self.additive()?;
        self.level1_rest()
    }

    fn level1_rest(&mut self) -> Result<(), FormulaError> {
        loop {
            self.skip_transparent();
            let t = self.peek();
            if let Some(op) = Self::logical_op(t.kind) {
                self.bump();
                self.additive()?;
                self.emit(Op::Bin(op));
            } else if t.kind == Tk::Question {
                self.bump();
                self.then_depth += 1;
                self.additive()?;
                while let Some(op) = Self::logical_op(self.peek().kind) {
                    self.bump();
                    self.additive()?;
                    self.emit(Op::Bin(op));
                }
                self.then_depth -= 1;
                self.expect(Tk::Colon, "`:` of the `?:` operator")?;
                self.additive()?;
                self.emit(Op::Select);
            } else {
                return Ok(());
            }
        }
    }

    /// Level 2: `+ -`.
    fn additive(&mut self) -> Result<(), FormulaError> {
        self.multiplicative()?;
        self.additive_rest()
    }

    fn additive_rest(&mut self) -> Result<(), FormulaError> {
        loop {
            self.skip_transparent();
            let op = match self.peek().kind {
                Tk::Plus => Bin::Add,
                Tk::Minus => Bin::Sub,
                _ => return Ok(()),
            };
            self.bump();
            self.multiplicative()?;
            self.emit(Op::Bin(op));
        }
    }

    /// Level 3: `* / %`.
    fn multiplicative(&mut self) -> Result<(), FormulaError> {
        self.power()?;
        self.multiplicative_rest()
    }

    fn multiplicative_rest(&mut self) -> Result<(), FormulaError> {
        loop {
            self.skip_transparent();
            let op = match self.peek().kind {
                Tk::Star => Bin::Mul,
                Tk::Slash => Bin::Div,
                Tk::Percent => Bin::Rem,
                _ => return Ok(()),
            };
            self.bump();
            self.power()?;
            self.emit(Op::Bin(op));
        }
    }

    /// Level 4: `** << >> & | ^`.
    fn power(&mut self) -> Result<(), FormulaError> {
        self.unary()?;
        self.power_rest()
    }

    fn power_rest(&mut self) -> Result<(), FormulaError> {
        loop {
            self.skip_transparent();
            let op = match self.peek().kind {
                Tk::Pow => Bin::Pow,
                Tk::Shl => Bin::Shl,
                Tk::Shr => Bin::Shr,
                Tk::Amp => Bin::And,
                Tk::Bar => Bin::Or,
                Tk::Caret => Bin::Xor,
                _ => return Ok(()),
            };
            self.bump();
            self.unary()?;
            self.emit(Op::Bin(op));
        }
    }

    /// Whether a unary `+`/`-` at the current position follows a token after which the
    /// reference rejects it (`+`, `-`, or a function name).
    fn sign_forbidden_here(&self) -> bool {
        let Some(prev) = self.pos.checked_sub(1).and_then(|i| self.toks.get(i)) else {
            return false;
        };
        match prev.kind {
            Tk::Plus | Tk::Minus => true,
            Tk::Ident => matches!(self.classify(self.text(*prev)), Class::Func(_)),
            _ => false,
        }
    }

    /// After a low-priority construct (barrier minus, parenthesis-less call) the enclosing
    /// group must end.
    fn expect_group_end(&self) -> Result<(), FormulaError> {
        let t = self.peek();
        match t.kind {
            Tk::RParen | Tk::Comma | Tk::End => Ok(()),
            _ => Err(self.unexpected(t, "`)`, `,` or the end of the formula")),
        }
    }

    fn forbid_in_then(&self, t: Token, what: &'static str) -> Result<(), FormulaError> {
        if self.then_depth > 0 {
            Err(FormulaError::Unsupported {
                offset: t.start,
                what,
            })
        } else {
            Ok(())
        }
    }

    /// Rejects the `~` placements the reference mis-parses: directly after a level-4
    /// binary operator (the reference then fails or computes a wrong value, e.g.
    /// `7 & ~1` gives -2), and an even run of `~` not followed by a number literal (the
    /// reference fails: `~~A`, `~~(A)`, while `~~5` and `~~~A` are fine).
    fn check_tilde(&self, t: Token) -> Result<(), FormulaError> {
        // Unary `+` is a no-op token for the reference: look through it.
        let is_operand_end =
            |k: Tk| matches!(k, Tk::Int(_) | Tk::Float(_) | Tk::Ident | Tk::RParen);
        let mut i = self.pos;
        while i > 0
            && self.toks[i - 1].kind == Tk::Plus
            && (i < 2 || !is_operand_end(self.toks[i - 2].kind))
        {
            i -= 1;
        }
        let prev = i
            .checked_sub(1)
            .and_then(|i| self.toks.get(i))
            .map(|p| p.kind);
        if matches!(
            prev,
            Some(Tk::Pow | Tk::Shl | Tk::Shr | Tk::Amp | Tk::Bar | Tk::Caret)
        ) {
            return Err(FormulaError::Unsupported {
                offset: t.start,
                what: "`~` directly after `**`, `<<`, `>>`, `&`, `|` or `^` (parenthesize it)",
            });
        }
        if prev != Some(Tk::Tilde) {
            let rest = self.toks.get(self.pos..).unwrap_or_default();
            let run = rest
                .iter()
                .take_while(|t| matches!(t.kind, Tk::Tilde | Tk::Plus))
                .count();
            let tilde_count = rest[..run].iter().filter(|t| t.kind == Tk::Tilde).count();
            let after = rest.get(run).map(|t| t.kind);
            if tilde_count % 2 == 0 && !matches!(after, Some(Tk::Int(_) | Tk::Float(_))) {
                return Err(FormulaError::Unsupported {
                    offset: t.start,
                    what: "an even number of `~` before a non-literal operand",
                });
            }
        }
        Ok(())
    }

    /// Level 5: prefix operators.
    fn unary(&mut self) -> Result<(), FormulaError> {
        self.enter()?;
        let t = self.peek();
        match t.kind {
            Tk::Plus | Tk::Minus if self.sign_forbidden_here() => {
                return Err(FormulaError::Unsupported {
                    offset: t.start,
                    what: "a sign directly after `+`, `-` or a function name",
                });
            }
            Tk::Minus => {
                self.bump();
                let n = self.peek();
                match n.kind {
                    Tk::Int(_) | Tk::Float(_) => {
                        self.bump();
                        self.emit_literal(n.kind, true);
                    }
                    Tk::Ident if matches!(self.classify(self.text(n)), Class::Var) => {
                        self.bump();
                        self.emit_var(n);
                        self.emit(Op::Neg);
                    }
                    Tk::Plus | Tk::Minus => {
                        return Err(FormulaError::Unsupported {
                            offset: n.start,
                            what: "a sign directly after `+`, `-` or a function name",
                        });
                    }
                    _ => {
                        // Low-priority negation of the rest of the group.
                        self.forbid_in_then(
                            t,
                            "a negation of a non-literal inside the `?` branch of `?:`",
                        )?;
                        self.low_priority += 1;
                        self.group()?;
                        self.expect_group_end()?;
                        self.emit(Op::Neg);
                    }
                }
            }
            Tk::Plus => {
                self.bump();
                self.unary()?;
            }
            Tk::Tilde => {
                self.check_tilde(t)?;
                self.bump();
                self.unary()?;
                self.emit(Op::Not);
            }
            _ => self.primary()?,
        }
        self.depth -= 1;
        Ok(())
    }

    fn primary(&mut self) -> Result<(), FormulaError> {
        let t = self.peek();
        match t.kind {
            Tk::Int(_) | Tk::Float(_) => {
                self.bump();
                self.emit_literal(t.kind, false);
            }
            Tk::LParen => {
                self.bump();
                self.paren_content(1)?;
            }
            Tk::Ident => {
                self.bump();
                match self.classify(self.text(t)) {
                    Class::Var => self.emit_var(t),
                    Class::Const(c) => {
                        if self.peek().kind == Tk::LParen {
                            self.bump();
                            self.expect(Tk::RParen, "`)` (constants take no arguments)")?;
                        }
                        self.emit(Op::Float(c));
                    }
                    Class::Func(f) => self.call(t, f)?,
                    Class::Unknown => {
                        return Err(FormulaError::UnknownIdentifier {
                            offset: t.start,
                            name: self.text(t).to_string(),
                        })
                    }
                }
            }
            _ => return Err(self.unexpected(t, "a number, a variable, a function or `(`")),
        }
        Ok(())
    }

    fn call(&mut self, name: Token, f: Func) -> Result<(), FormulaError> {
        let max_args = if f == Func::Round { 2 } else { 1 };
        let mut n = 1;
        if self.peek().kind == Tk::LParen {
            self.bump();
            if self.peek().kind == Tk::RParen {
                return Err(self.arg_count(name, f, 0));
            }
            n = self.paren_content(usize::MAX)?;
            if n > max_args {
                return Err(self.arg_count(name, f, n));
            }
        } else {
            // Parenthesis-less call: the argument(s) extend to the end of the group.
            self.forbid_in_then(
                name,
                "a function call without parentheses inside the `?` branch of `?:`",
            )?;
            self.low_priority += 1;
            self.group()?;
            if max_args == 2 && self.peek().kind == Tk::Comma {
                self.bump();
                self.group()?;
                n += 1;
            }
            self.expect_group_end()?;
        }
        self.emit(if n == 2 { Op::Round2 } else { Op::Call(f) });
        Ok(())
    }

    fn arg_count(&self, name: Token, f: Func, found: usize) -> FormulaError {
        FormulaError::ArgumentCount {
            offset: name.start,
            function: f.name(),
            expected: if f == Func::Round { "1 or 2" } else { "1" },
            found,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const NAMES: [&str; 6] = ["A", "B", "F", "X.Min", "E", "SIN"];

    fn is_var(n: &str) -> bool {
        NAMES.contains(&n)
    }

    fn parse(src: &str, mode: Mode) -> Result<Formula, FormulaError> {
        Formula::parse_mode(src, mode, &is_var)
    }

    fn ev(src: &str, mode: Mode, vars: &[(&str, Num)]) -> Result<Num, FormulaError> {
        let f = parse(src, mode)?;
        let vals: Vec<Num> = f
            .variables()
            .iter()
            .map(|n| vars.iter().find(|(v, _)| v == n).expect("value").1)
            .collect();
        f.eval(mode, &vals)
    }

    fn int(src: &str) -> i64 {
        match ev(src, Mode::Int, &[]) {
            Ok(Num::Int(v)) => v,
            other => panic!("{src}: {other:?}"),
        }
    }

    fn float(src: &str) -> f64 {
        match ev(src, Mode::Float, &[]) {
            Ok(Num::Float(v)) => v,
            other => panic!("{src}: {other:?}"),
        }
    }

    fn perr(src: &str, mode: Mode) -> FormulaError {
        parse(src, mode).expect_err(src)
    }

    #[test]
    fn precedence() {
        assert_eq!(int("1+2<<1"), 5);
        assert_eq!(int("6&3=2"), 1);
        assert_eq!(int("2**3**2"), 64);
        assert_eq!(int("-2**2"), 4);
        assert_eq!(int("1 = 2 || 3 = 3"), 0);
        assert_eq!(int("1 ? 2 : 3 = 3"), 0);
        assert_eq!(int("(0=0) ? 1 : (0=1) ? 2 : 3"), 2);
        assert_eq!(int("-(2)+5"), -7);
        assert_eq!(int("5*-(2)+1"), -15);
        assert_eq!(int("NEG 3+1"), -4);
        assert_eq!(float("-PI+1"), -(std::f64::consts::PI + 1.0));
    }

    #[test]
    fn low_priority_constructs() {
        // Barrier minus and parenthesis-less calls run to the end of their group.
        assert_eq!(int("-(1)?2:3"), -2);
        assert_eq!(int("NEG 4 + 5"), -9);
        assert_eq!(float("ROUND 2.44, 1"), 2.4);
        // ... and make the enclosing `)` transparent.
        assert_eq!(int("2 * (-(1)) + 5"), 8);
        assert_eq!(int("NEG(-(1))+5"), -4);
        assert_eq!(int("NEG(1 = -(1)) + 1"), 0);
        assert_eq!(int("NEG(2 - (SGN 1)) * 3"), 1);
        assert_eq!(int("NEG(NEG(-(1)))+5"), -6);
        assert_eq!(int("(NEG(-(1)))+5"), 6);
        assert_eq!(float("ROUND(2.4,-(0))+0.5"), 2.0);
        assert_eq!(float("ROUND(-(2.4),0)+0.5"), -1.5);
        // Ordinary parentheses and calls are not affected.
        assert_eq!(int("NEG(3)+1"), -2);
        assert_eq!(int("2 * (-1) + 5"), 3);
        // In a then operand they are errors, even in parentheses.
        for src in ["1?(-(2)):3", "1?(SGN 2):3", "NEG(1 ? -(2) : 5)"] {
            assert!(
                matches!(perr(src, Mode::Int), FormulaError::Unsupported { .. }),
                "{src}"
            );
        }
        assert!(matches!(
            perr("(-(1)) 5", Mode::Int),
            FormulaError::Syntax { offset: 7, .. }
        ));
    }

    #[test]
    fn tilde_placements() {
        assert_eq!(int("~~5"), 5);
        assert_eq!(int("~~~5"), -6);
        assert_eq!(
            ev("~~~A", Mode::Int, &[("A", Num::Int(7))]),
            Ok(Num::Int(-8))
        );
        assert_eq!(int("7 & (~1)"), 6);
        assert_eq!(int("~1 & 7"), 6);
        for src in [
            "~~A", "~~(A)", "A + ~~B", "A | ~B", "7 & ~1", "2 ** ~2", "A ^ + ~B", "~+~A",
        ] {
            assert!(
                matches!(perr(src, Mode::Int), FormulaError::Unsupported { .. }),
                "{src}"
            );
        }
    }

    #[test]
    fn float_division_epsilon() {
        assert_eq!(
            ev("1/1e-16", Mode::Float, &[]),
            Err(FormulaError::DivisionByZero)
        );
        assert_eq!(
            ev("1%-1e-16", Mode::Float, &[]),
            Err(FormulaError::DivisionByZero)
        );
        assert_eq!(float("1/2.220446049250313e-16"), 4503599627370496.0);
        assert!(float("2/SQRT(-1)").is_nan());
        assert_eq!(float("1e308/1e-10"), f64::INFINITY);
    }

    #[test]
    fn variables_and_slots() {
        let f = parse("A + B*A - X.Min", Mode::Int).unwrap();
        assert_eq!(f.variables(), ["A", "B", "X.Min"]);
        assert_eq!(
            f.eval(Mode::Int, &[Num::Int(7), Num::Float(-2.5), Num::Int(1)]),
            Ok(Num::Int(7 - 21 - 1))
        );
        assert_eq!(
            f.eval(Mode::Float, &[Num::Int(7), Num::Float(-2.5), Num::Int(1)]),
            Err(FormulaError::NotParsedForMode { mode: Mode::Float })
        );
        assert_eq!(
            f.eval(Mode::Int, &[Num::Int(7)]),
            Err(FormulaError::MissingVariables {
                expected: 3,
                found: 1
            })
        );
        // Float mode: E and SIN are built-ins even when declared as variables.
        let f = parse("E + SIN(0)", Mode::Float).unwrap();
        assert!(f.variables().is_empty());
        // Integer mode: E is a variable, SIN is not a function.
        let f = parse("E", Mode::Int).unwrap();
        assert_eq!(f.variables(), ["E"]);
    }

    #[test]
    fn dual_mode_parse() {
        // Both modes: the variable list is shared; E is a variable only in integer mode.
        let f = Formula::parse("A + E", &is_var).unwrap();
        assert_eq!(f.variables(), ["A", "E"]);
        let v = [Num::Int(1), Num::Int(10)];
        assert_eq!(f.eval(Mode::Int, &v), Ok(Num::Int(11)));
        assert_eq!(
            f.eval(Mode::Float, &v),
            Ok(Num::Float(1.0 + std::f64::consts::E))
        );
        // Float only: integer evaluation reports the integer parse error.
        let f = Formula::parse("SQRT(A) + 1", &is_var).unwrap();
        assert_eq!(f.variables(), ["A"]);
        assert!(f.parse_error(Mode::Float).is_none());
        assert!(matches!(
            f.parse_error(Mode::Int),
            Some(FormulaError::UnknownIdentifier { offset: 0, .. })
        ));
        assert!(f.eval(Mode::Int, &[Num::Int(0)]).is_err());
        assert_eq!(f.eval(Mode::Float, &[Num::Int(0)]), Ok(Num::Float(1.0)));
        // Neither mode: error (the float mode's).
        assert_eq!(
            Formula::parse("A + Q", &is_var).unwrap_err(),
            FormulaError::UnknownIdentifier {
                offset: 4,
                name: "Q".into()
            }
        );
        // Variables seen only by a failing mode are not kept.
        let f = Formula::parse("B + SQRT(A)", &is_var).unwrap();
        assert_eq!(f.variables(), ["B", "A"]);
        let f = Formula::parse("B + 1.5 + A", &is_var).unwrap();
        assert_eq!(f.variables(), ["B", "A"]);
    }

    #[test]
    fn eval_errors() {
        assert_eq!(ev("1/0", Mode::Int, &[]), Err(FormulaError::DivisionByZero));
        assert_eq!(ev("1%0", Mode::Int, &[]), Err(FormulaError::DivisionByZero));
        assert_eq!(
            ev("1/-0.0", Mode::Float, &[]),
            Err(FormulaError::DivisionByZero)
        );
        assert_eq!(
            ev("1?2:1/0", Mode::Float, &[]),
            Err(FormulaError::DivisionByZero)
        );
        assert_eq!(
            ev("3000000000>>1", Mode::Float, &[]),
            Err(FormulaError::BitOperandOutOfRange { value: 3e9 })
        );
        assert_eq!(
            ev("A", Mode::Int, &[("A", Num::Float(1e30))]),
            Err(FormulaError::FloatOutOfIntRange { value: 1e30 })
        );
        // The reference crashes (SIGFPE) on these; we wrap.
        let min = [("A", Num::Int(i64::MIN))];
        assert_eq!(ev("A/-1", Mode::Int, &min), Ok(Num::Int(i64::MIN)));
        assert_eq!(ev("A%-1", Mode::Int, &min), Ok(Num::Int(0)));
    }

    #[test]
    fn float_to_int_conversion() {
        assert_eq!(float_to_int(7.5), Ok(8));
        assert_eq!(float_to_int(-2.5), Ok(-3));
        assert_eq!(float_to_int(0.49999999999999994), Ok(1));
        assert_eq!(float_to_int(9_223_372_036_854_775_808.0), Ok(i64::MIN));
        assert_eq!(float_to_int(f64::NAN), Ok(i64::MIN));
        assert!(float_to_int(1e19).is_err());
        assert!(float_to_int(f64::NEG_INFINITY).is_err());
    }

    #[test]
    fn parse_errors_carry_offsets() {
        let e = perr("1 + ", Mode::Int);
        assert!(matches!(e, FormulaError::Syntax { offset: 4, .. }), "{e}");
        let e = perr("A == 1", Mode::Int);
        assert!(matches!(e, FormulaError::Syntax { offset: 3, .. }), "{e}");
        assert_eq!(
            perr("A != 1", Mode::Int),
            FormulaError::UnexpectedChar {
                offset: 2,
                found: '!'
            }
        );
        assert_eq!(
            perr("2 + MIN(1,2)", Mode::Float),
            FormulaError::UnknownIdentifier {
                offset: 4,
                name: "MIN".into()
            }
        );
        assert_eq!(
            perr("1 + SQRT(0)", Mode::Int),
            FormulaError::UnknownIdentifier {
                offset: 4,
                name: "SQRT".into()
            }
        );
        assert!(matches!(
            perr("x + 1", Mode::Int),
            FormulaError::UnknownIdentifier { offset: 0, .. }
        ));
        assert!(matches!(
            perr("A + 1.5", Mode::Int),
            FormulaError::BadNumber { offset: 4, .. }
        ));
        assert!(matches!(
            perr("0X10", Mode::Int),
            FormulaError::BadNumber { offset: 0, .. }
        ));
        assert!(matches!(
            perr("  SIN(1,2)", Mode::Float),
            FormulaError::ArgumentCount {
                offset: 2,
                found: 2,
                ..
            }
        ));
        assert!(matches!(
            perr("ROUND()", Mode::Float),
            FormulaError::ArgumentCount { found: 0, .. }
        ));
        assert!(matches!(
            perr("2--3", Mode::Int),
            FormulaError::Unsupported { offset: 2, .. }
        ));
        assert!(matches!(
            perr("1?-(2):3", Mode::Int),
            FormulaError::Unsupported { offset: 2, .. }
        ));
        assert!(matches!(
            perr("1?0?7:8:9", Mode::Int),
            FormulaError::Syntax { offset: 3, .. }
        ));
        assert!(matches!(
            perr("(1", Mode::Int),
            FormulaError::Syntax { offset: 2, .. }
        ));
        assert!(matches!(
            perr("1)", Mode::Int),
            FormulaError::Syntax { offset: 1, .. }
        ));
        assert_eq!(perr("", Mode::Int), FormulaError::Empty);
        assert_eq!(perr(" \t\r\n", Mode::Float), FormulaError::Empty);
        assert_eq!(
            perr("A + é", Mode::Float),
            FormulaError::UnexpectedChar {
                offset: 4,
                found: 'é'
            }
        );
        assert_eq!(perr("A + é", Mode::Float).offset(), Some(4));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        for src in [
            "(".repeat(100_000),
            format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000)),
            "~".repeat(100_000) + "1",
            "-(".repeat(50_000) + "1",
            "SGN ".repeat(50_000) + "1",
        ] {
            for mode in [Mode::Int, Mode::Float] {
                assert!(matches!(
                    parse(&src, mode),
                    Err(FormulaError::TooDeep { .. })
                ));
            }
        }
        // Also on a small thread stack, in debug builds.
        let small = std::thread::Builder::new()
            .stack_size(1 << 20)
            .spawn(|| {
                let src = "(".repeat(100_000);
                matches!(parse(&src, Mode::Float), Err(FormulaError::TooDeep { .. }))
            })
            .unwrap()
            .join()
            .unwrap();
        assert!(small);
        // Long flat chains are fine.
        let src = vec!["1"; 100_000].join("+");
        assert_eq!(int(&src), 100_000);
        // Moderately deep nesting works and evaluates on the heap stack.
        let src = format!("{}1{}", "(1+".repeat(100), ")".repeat(100));
        let f = parse(&src, Mode::Int).unwrap();
        assert!(f.int.as_ref().unwrap().stack > INLINE_STACK);
        assert_eq!(f.eval(Mode::Int, &[]), Ok(Num::Int(101)));
    }

    fn values() -> impl Strategy<Value = Num> {
        prop_oneof![
            any::<i64>().prop_map(Num::Int),
            any::<f64>().prop_map(Num::Float),
            prop_oneof![
                Just(0i64),
                Just(-1),
                Just(1),
                Just(i64::MIN),
                Just(i64::MAX),
                Just(63),
                Just(64)
            ]
            .prop_map(Num::Int),
            prop_oneof![
                Just(0.0f64),
                Just(-0.0),
                Just(f64::NAN),
                Just(f64::INFINITY),
                Just(f64::NEG_INFINITY),
                Just(2147483648.0),
                Just(9.3e18),
                Just(0.5)
            ]
            .prop_map(Num::Float),
        ]
    }

    /// Strings built from formula-ish pieces, so that many of them parse.
    fn formulaish() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("A"),
            Just("B"),
            Just("F"),
            Just("X.Min"),
            Just("E"),
            Just("PI"),
            Just("0"),
            Just("1"),
            Just("2"),
            Just("63"),
            Just("64"),
            Just("9223372036854775807"),
            Just("0xFFFFFFFF"),
            Just("0X1.8p1"),
            Just("1.5"),
            Just("1e308"),
            Just("+"),
            Just("-"),
            Just("*"),
            Just("/"),
            Just("%"),
            Just("**"),
            Just("<<"),
            Just(">>"),
            Just("&"),
            Just("|"),
            Just("^"),
            Just("~"),
            Just("&&"),
            Just("||"),
            Just("="),
            Just("<>"),
            Just("<"),
            Just(">="),
            Just("?"),
            Just(":"),
            Just("("),
            Just(")"),
            Just(","),
            Just(" "),
            Just("SGN"),
            Just("NEG"),
            Just("ROUND"),
            Just("SQRT"),
            Just("LN"),
            Just("é"),
        ];
        prop::collection::vec(piece, 0..40).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn arbitrary_strings_never_panic(s in any::<String>()) {
            for mode in [Mode::Int, Mode::Float] {
                if let Ok(f) = parse(&s, mode) {
                    let vals = vec![Num::Int(1); f.variables().len()];
                    let _ = f.eval(mode, &vals);
                }
            }
            if let Ok(f) = Formula::parse(&s, &is_var) {
                let vals = vec![Num::Float(0.5); f.variables().len()];
                let _ = f.eval(Mode::Int, &vals);
                let _ = f.eval(Mode::Float, &vals);
            }
        }

        #[test]
        fn arbitrary_formulas_never_panic(
            s in formulaish(),
            vals in prop::collection::vec(values(), 5),
        ) {
            for mode in [Mode::Int, Mode::Float] {
                match parse(&s, mode) {
                    Ok(f) => {
                        prop_assert!(f.variables().len() <= 5);
                        match (mode, f.eval(mode, &vals)) {
                            (Mode::Int, Ok(Num::Int(_))) | (Mode::Float, Ok(Num::Float(_))) | (_, Err(_)) => {}
                            (m, r) => prop_assert!(false, "mode {:?} gave {:?}", m, r),
                        }
                    }
                    Err(e) => prop_assert!(e.offset().is_some_and(|o| o <= s.len())),
                }
            }
        }
    }
}
