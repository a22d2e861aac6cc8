//! The FIQL filters of storage's object search: `==`, `!=`, `=gt=`, `=ge=`, `=lt=`, `=le=`,
//! `;` (and), `,` (or, binding looser) and parentheses, e.g.
//! `type==callcenterrecording;(objectState==AVAILABLE,objectState==REVOKED)`.

#[derive(Debug, PartialEq)]
pub(crate) enum Filter {
    Compare {
        field: String,
        op: Op,
        value: String,
    },
    And(Vec<Filter>),
    Or(Vec<Filter>),
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

const OPS: [(&str, Op); 6] = [
    ("==", Op::Eq),
    ("!=", Op::Ne),
    ("=gt=", Op::Gt),
    ("=ge=", Op::Ge),
    ("=lt=", Op::Lt),
    ("=le=", Op::Le),
];

pub(crate) fn parse(text: &str) -> Result<Filter, String> {
    let mut p = Parser { s: text, at: 0 };
    let f = p.or()?;
    if p.at != text.len() {
        return Err(format!("unexpected {:?} at {}", &text[p.at..], p.at));
    }
    Ok(f)
}

impl Filter {
    /// Whether an object whose fields `lookup` gives passes; a missing field passes only `!=`.
    pub(crate) fn matches(&self, lookup: &dyn Fn(&str) -> Option<String>) -> bool {
        match self {
            Filter::And(all) => all.iter().all(|f| f.matches(lookup)),
            Filter::Or(any) => any.iter().any(|f| f.matches(lookup)),
            Filter::Compare { field, op, value } => match lookup(field) {
                None => *op == Op::Ne,
                Some(actual) => compare(&actual, *op, value),
            },
        }
    }

    pub(crate) fn mentions(&self, name: &str) -> bool {
        match self {
            Filter::And(fs) | Filter::Or(fs) => fs.iter().any(|f| f.mentions(name)),
            Filter::Compare { field, .. } => field == name,
        }
    }
}

fn compare(actual: &str, op: Op, value: &str) -> bool {
    // Numbers (epoch-ms times, sizes) compare as numbers; anything else as text.
    let ordering = match (actual.parse::<f64>(), value.parse::<f64>()) {
        (Ok(a), Ok(b)) => a.partial_cmp(&b),
        _ => Some(actual.cmp(value)),
    };
    use std::cmp::Ordering::*;
    match (op, ordering) {
        (Op::Eq, _) => actual == value || ordering == Some(Equal),
        (Op::Ne, _) => !(actual == value || ordering == Some(Equal)),
        (Op::Gt, Some(Greater)) | (Op::Lt, Some(Less)) => true,
        (Op::Ge, Some(Greater | Equal)) | (Op::Le, Some(Less | Equal)) => true,
        _ => false,
    }
}

struct Parser<'a> {
    s: &'a str,
    at: usize,
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        &self.s[self.at..]
    }

    fn or(&mut self) -> Result<Filter, String> {
        let mut parts = vec![self.and()?];
        while self.rest().starts_with(',') {
            self.at += 1;
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Filter::Or(parts)
        })
    }

    fn and(&mut self) -> Result<Filter, String> {
        let mut parts = vec![self.term()?];
        while self.rest().starts_with(';') {
            self.at += 1;
            parts.push(self.term()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Filter::And(parts)
        })
    }

    fn term(&mut self) -> Result<Filter, String> {
        if self.rest().starts_with('(') {
            self.at += 1;
            let inner = self.or()?;
            if !self.rest().starts_with(')') {
                return Err(format!("missing ')' at {}", self.at));
            }
            self.at += 1;
            return Ok(inner);
        }
        let field_len = self
            .rest()
            .find(['=', '!', ';', ',', '(', ')'])
            .unwrap_or(self.rest().len());
        let field = self.rest()[..field_len].to_string();
        if field.is_empty() {
            return Err(format!("expected a field name at {}", self.at));
        }
        self.at += field_len;
        let (token, op) = OPS
            .iter()
            .find(|(token, _)| self.rest().starts_with(token))
            .ok_or_else(|| format!("unsupported operator after {field:?}"))?;
        self.at += token.len();
        let value_len = self
            .rest()
            .find([';', ',', ')'])
            .unwrap_or(self.rest().len());
        let value = self.rest()[..value_len]
            .trim_matches(['"', '\''])
            .to_string();
        self.at += value_len;
        Ok(Filter::Compare {
            field,
            op: *op,
            value,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(field: &str) -> Option<String> {
        match field {
            "type" => Some("callcenterrecording".into()),
            "objectState" => Some("REVOKED".into()),
            "duration" => Some("120".into()),
            _ => None,
        }
    }

    #[test]
    fn and_or_and_parentheses() {
        let f = parse("type==callcenterrecording;(objectState==AVAILABLE,objectState==REVOKED)")
            .unwrap();
        assert!(f.matches(&object));
        assert!(f.mentions("objectState"));
        assert!(!parse("type==callrecording").unwrap().matches(&object));
        assert!(parse("type==callrecording,duration=gt=100")
            .unwrap()
            .matches(&object));
        assert!(!parse("duration=gt=120").unwrap().matches(&object));
        assert!(parse("duration=ge=120;duration=lt=1000")
            .unwrap()
            .matches(&object));
        assert!(parse("missing!=x").unwrap().matches(&object));
        assert!(!parse("missing==x").unwrap().matches(&object));
    }

    #[test]
    fn malformed_filters_are_errors() {
        for bad in ["", "type", "type=~x", "(type==a", "==a", "type==a)"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
