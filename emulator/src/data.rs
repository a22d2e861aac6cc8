//! Deterministic realtime-metrics queues, and the API's paging rules over them.

use serde::Serialize;
use serde_json::Value;

pub(crate) const DEFAULT_SIZE: u64 = 100;
pub(crate) const MAX_SIZE: u64 = 1000;

const NAMES: [&str; 7] = [
    "Support EN",
    "Support FR",
    "Sales",
    "Billing",
    "Technical",
    "Callbacks",
    "VIP",
];

/// The first queue's `lastUpdated`, the seed document's `issued_at`: fixed so tests can compare.
const LAST_UPDATED: u64 = 1_683_045_181_383;

#[derive(Serialize, Clone, Debug, PartialEq)]
pub(crate) struct Queue {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) metrics: Vec<Metric>,
}

#[derive(Serialize, Clone, Debug, PartialEq)]
pub(crate) struct Metric {
    key: &'static str,
    value: Value,
}

/// Queue `i` (from 0) has id `103 + i`. Its metrics carry every kind of value the API sends —
/// a number, a numeric string, an epoch-ms timestamp, and null (on even queues) — so a client's
/// parser meets each one on the first page.
pub(crate) fn queue(i: usize) -> Queue {
    let n = i as u64;
    let metric = |key, value| Metric { key, value };
    Queue {
        id: (103 + n).to_string(),
        name: NAMES
            .get(i)
            .map(|s| s.to_string())
            .unwrap_or_else(|| format!("Queue {}", 103 + n)),
        metrics: vec![
            metric("entered.today", Value::from(7 + 5 * n)),
            metric("waiting.longest", Value::from((12 + 3 * n).to_string())),
            metric("lastUpdated", Value::from(LAST_UPDATED + 1000 * n)),
            metric(
                "abandoned.today",
                if i % 2 == 1 {
                    Value::from(n)
                } else {
                    Value::Null
                },
            ),
        ],
    }
}

pub(crate) fn find(total: usize, id: &str) -> Option<Queue> {
    let n: usize = id.parse().ok()?;
    // Reject forms like "0103" or "+103": ids are compared as the strings the API returns.
    if n.to_string() != id {
        return None;
    }
    n.checked_sub(103).filter(|&i| i < total).map(queue)
}

#[derive(Debug, PartialEq)]
pub(crate) struct Page {
    pub(crate) page: u64,
    pub(crate) size: u64,
    pub(crate) total_pages: u64,
    pub(crate) total_elements: u64,
    pub(crate) items: Vec<Queue>,
}

/// Applies the query's `page` and `size` to `total` queues; Err is the 400 message.
pub(crate) fn page(total: usize, page: Option<&str>, size: Option<&str>) -> Result<Page, String> {
    let size = match size {
        None => DEFAULT_SIZE,
        Some(s) => s
            .parse::<u64>()
            .map_err(|_| "Bad request: Field 'size' must be a number".to_string())?,
    };
    if size > MAX_SIZE {
        return Err(format!(
            "Bad request: Field 'size' must be less than or equal to {MAX_SIZE}"
        ));
    }
    if size == 0 {
        return Err("Bad request: Field 'size' must be greater than or equal to 1".to_string());
    }
    let page = match page {
        None => 0,
        Some(p) => p
            .parse::<u64>()
            .map_err(|_| "Bad request: Field 'page' must be a non-negative number".to_string())?,
    };
    let total_elements = total as u64;
    let total_pages = total_elements.div_ceil(size);
    // Page 0 of nothing is an empty list, not an error.
    if page > 0 && page >= total_pages {
        return Err(format!(
            "Bad request: Page {page} is out of range; there are {total_pages} pages"
        ));
    }
    let first = page * size;
    let last = (first + size).min(total_elements);
    Ok(Page {
        page,
        size,
        total_pages,
        total_elements,
        items: (first..last).map(|i| queue(i as usize)).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_queue_matches_the_notes_example() {
        let q = serde_json::to_string(&queue(0)).unwrap();
        assert_eq!(
            q,
            r#"{"id":"103","name":"Support EN","metrics":[{"key":"entered.today","value":7},{"key":"waiting.longest","value":"12"},{"key":"lastUpdated","value":1683045181383},{"key":"abandoned.today","value":null}]}"#
        );
    }

    #[test]
    fn queues_past_the_names_are_numbered() {
        assert_eq!(queue(7).name, "Queue 110");
        assert_eq!(queue(1).metrics[3].value, Value::from(1));
    }

    #[test]
    fn find_by_id() {
        assert_eq!(find(7, "103").unwrap().name, "Support EN");
        assert_eq!(find(7, "109").unwrap().name, "VIP");
        assert!(find(7, "110").is_none());
        assert!(find(7, "102").is_none());
        assert!(find(7, "0103").is_none());
        assert!(find(7, "abc").is_none());
    }

    #[test]
    fn paging() {
        let p = page(7, None, None).unwrap();
        assert_eq!(
            (p.page, p.size, p.total_pages, p.total_elements),
            (0, 100, 1, 7)
        );
        assert_eq!(p.items.len(), 7);
        let p = page(7, Some("2"), Some("3")).unwrap();
        assert_eq!(p.total_pages, 3);
        assert_eq!(
            p.items.iter().map(|q| q.id.as_str()).collect::<Vec<_>>(),
            ["109"]
        );
        assert!(page(7, Some("3"), Some("3"))
            .unwrap_err()
            .contains("there are 3 pages"));
        assert_eq!(
            page(7, None, Some("1001")).unwrap_err(),
            "Bad request: Field 'size' must be less than or equal to 1000"
        );
        assert!(page(7, None, Some("1000")).is_ok());
        assert!(page(7, None, Some("0")).is_err());
        assert!(page(7, Some("-1"), None).is_err());
        let empty = page(0, None, None).unwrap();
        assert_eq!((empty.total_pages, empty.items.len()), (0, 0));
    }
}
