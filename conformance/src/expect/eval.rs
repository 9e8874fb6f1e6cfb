//! Evaluation of matchers against JSON values. Comparisons are loose only between a string and
//! a scalar (`"32"` equals `32`) because files and stdout are text; everything else is exact.

use super::{is_matcher_object, CmpOp, Kind, Matcher};
use serde_json::Value;

/// Short rendering of a value for failure messages.
pub fn render(v: &Value) -> String {
    let s = match v {
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    };
    ellipsize(&s, 400)
}

/// `s` cut to at most `max` bytes, at a character boundary, with `…` when something was cut:
/// a value in a failure message, a reason on a progress line.
pub fn ellipsize(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut cut = max;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}…", &s[..cut])
}

/// A number, or a string holding one (trimmed).
pub fn as_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

pub fn values_equal(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| values_equal(x, y))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(k, v)| b.get(k).is_some_and(|w| values_equal(v, w)))
        }
        (Value::String(_), Value::Number(_) | Value::Bool(_))
        | (Value::Number(_) | Value::Bool(_), Value::String(_)) => {
            scalar_text(expected) == scalar_text(actual)
        }
        _ => expected == actual,
    }
}

fn at(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!("at {path}: ")
    }
}

pub fn subset(expected: &Value, actual: &Value, path: &str) -> Result<(), String> {
    if is_matcher_object(expected) {
        let m = Matcher::from_json(expected).map_err(|e| format!("{}{e}", at(path)))?;
        return check(&m, actual, path);
    }
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                let p = format!("{path}/{k}");
                match a.get(k) {
                    Some(av) => subset(ev, av, &p)?,
                    None => return Err(format!("at {p}: missing (expected {})", render(ev))),
                }
            }
            Ok(())
        }
        (Value::Array(e), Value::Array(a)) => same_elements(e, a, path),
        (Value::Object(_), _) | (Value::Array(_), _) => Err(format!(
            "{}expected {} but got {}",
            at(path),
            render(expected),
            render(actual)
        )),
        _ if values_equal(expected, actual) => Ok(()),
        _ => Err(format!(
            "{}expected {} but got {}",
            at(path),
            render(expected),
            render(actual)
        )),
    }
}

/// An array inside `subset` means exactly these elements, in any order: the lengths agree and
/// every expected item (itself subset-matched) pairs with its own element. `contains` is the
/// loose form ("at least these").
fn same_elements(expected: &[Value], actual: &[Value], path: &str) -> Result<(), String> {
    if expected.len() != actual.len() {
        return Err(format!(
            "{}expected exactly {} (in any order) but got {}",
            at(path),
            render(&Value::Array(expected.to_vec())),
            render(&Value::Array(actual.to_vec()))
        ));
    }
    let fits: Vec<Vec<bool>> = expected
        .iter()
        .map(|e| actual.iter().map(|a| subset(e, a, "").is_ok()).collect())
        .collect();
    let mut owner: Vec<Option<usize>> = vec![None; actual.len()];
    for (i, item) in expected.iter().enumerate() {
        if !pair(i, &fits, &mut owner, &mut vec![false; actual.len()]) {
            return Err(format!(
                "{}no element left for expected item {i} {} in {}",
                at(path),
                render(item),
                render(&Value::Array(actual.to_vec()))
            ));
        }
    }
    Ok(())
}

/// Augmenting-path step of a bipartite matching (Kuhn): a matcher such as `{gt: 0}` fits several
/// elements, so a greedy first fit could wrongly leave a later item without a partner.
fn pair(i: usize, fits: &[Vec<bool>], owner: &mut [Option<usize>], seen: &mut [bool]) -> bool {
    for j in 0..owner.len() {
        if fits[i][j] && !seen[j] {
            seen[j] = true;
            if owner[j].is_none_or(|k| pair(k, fits, owner, seen)) {
                owner[j] = Some(i);
                return true;
            }
        }
    }
    false
}

fn contains(expected: &Value, actual: &Value, path: &str) -> Result<(), String> {
    match actual {
        Value::String(s) => {
            let needles: Vec<&Value> = match expected {
                Value::Array(a) => a.iter().collect(),
                other => vec![other],
            };
            for n in needles {
                let text = scalar_text(n).ok_or_else(|| {
                    format!("{}cannot look for {} in a string", at(path), render(n))
                })?;
                if !s.contains(&text) {
                    return Err(format!(
                        "{}{} does not contain {text:?}",
                        at(path),
                        render(actual)
                    ));
                }
            }
            Ok(())
        }
        Value::Array(items) => {
            let wanted: Vec<&Value> = match expected {
                Value::Array(a) => a.iter().collect(),
                other => vec![other],
            };
            for w in wanted {
                if !items.iter().any(|item| subset(w, item, "").is_ok()) {
                    return Err(format!("{}no element matches {}", at(path), render(w)));
                }
            }
            Ok(())
        }
        Value::Object(_) => subset(expected, actual, path),
        other => Err(format!(
            "{}contains: cannot search in {}",
            at(path),
            render(other)
        )),
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

fn compare(op: CmpOp, bound: f64, actual: &Value, path: &str) -> Result<(), String> {
    let n = as_number(actual)
        .ok_or_else(|| format!("{}expected a number, got {}", at(path), render(actual)))?;
    let (ok, sym) = match op {
        CmpOp::Gt => (n > bound, ">"),
        CmpOp::Ge => (n >= bound, ">="),
        CmpOp::Lt => (n < bound, "<"),
        CmpOp::Le => (n <= bound, "<="),
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{}expected {sym} {bound}, got {}",
            at(path),
            render(actual)
        ))
    }
}

fn lines_of(actual: &Value) -> Value {
    match actual {
        Value::String(s) => Value::Array(s.lines().map(|l| Value::String(l.into())).collect()),
        other => other.clone(),
    }
}

fn length(actual: &Value) -> Option<usize> {
    match actual {
        Value::String(s) => Some(s.chars().count()),
        Value::Array(a) => Some(a.len()),
        Value::Object(o) => Some(o.len()),
        _ => None,
    }
}

pub fn check(m: &Matcher, actual: &Value, path: &str) -> Result<(), String> {
    match &m.kind {
        Kind::Equals(e) if values_equal(e, actual) => Ok(()),
        Kind::Equals(e) => Err(format!(
            "{}expected {} but got {}",
            at(path),
            render(e),
            render(actual)
        )),
        Kind::Contains(e) => contains(e, actual, path),
        Kind::Subset(e) => subset(e, actual, path),
        Kind::Regex(re) => {
            let text = scalar_text(actual).unwrap_or_else(|| actual.to_string());
            if re.is_match(&text) {
                Ok(())
            } else {
                Err(format!(
                    "{}{} does not match /{}/",
                    at(path),
                    render(actual),
                    re.as_str()
                ))
            }
        }
        Kind::Empty(want) if is_empty(actual) == *want => Ok(()),
        Kind::Empty(want) => Err(format!(
            "{}expected {}empty, got {}",
            at(path),
            if *want { "" } else { "non-" },
            render(actual)
        )),
        Kind::Not(inner) => match check(inner, actual, path) {
            Ok(()) => Err(format!(
                "{}expected not {} but got {}",
                at(path),
                render(&inner.source),
                render(actual)
            )),
            Err(_) => Ok(()),
        },
        Kind::Cmp(op, bound) => compare(*op, *bound, actual, path),
        Kind::OneOf(options) => {
            if options.iter().any(|o| subset(o, actual, "").is_ok()) {
                Ok(())
            } else {
                Err(format!(
                    "{}expected one of {} but got {}",
                    at(path),
                    render(&Value::Array(options.clone())),
                    render(actual)
                ))
            }
        }
        Kind::Lines(inner) => check(inner, &lines_of(actual), &format!("{path}(lines)")),
        Kind::Len(inner) => match length(actual) {
            Some(n) => check(inner, &Value::from(n), &format!("{path}(len)")),
            None => Err(format!("{}len: {} has no length", at(path), render(actual))),
        },
        Kind::All(all) => all.iter().try_for_each(|m| check(m, actual, path)),
    }
}
