//! RFC 3339 timestamps for `x8 token --json`. A date library would be a dependency for one function; the
//! civil-from-days conversion is short, exact over the whole proleptic Gregorian calendar, and tested below.

/// `2023-05-02T16:33:01.383Z` for an epoch-milliseconds instant (UTC, so no time zone database is needed).
pub fn format_epoch_ms(epoch_ms: i64) -> String {
    let secs = epoch_ms.div_euclid(1000);
    let millis = epoch_ms.rem_euclid(1000);
    let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
    let second_of_day = secs.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        second_of_day / 3600,
        second_of_day % 3600 / 60,
        second_of_day % 60
    )
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 to (year, month, day). Eras of 400 years repeat
/// exactly, so the arithmetic works within one era, counted from March so that leap days fall at its end.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month as u32, day as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(format_epoch_ms(0), "1970-01-01T00:00:00.000Z");
        // The seed document's issued_at.
        assert_eq!(
            format_epoch_ms(1_683_045_181_383),
            "2023-05-02T16:33:01.383Z"
        );
        assert_eq!(format_epoch_ms(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(
            format_epoch_ms(4_102_444_799_999),
            "2099-12-31T23:59:59.999Z"
        );
        assert_eq!(format_epoch_ms(-1), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn every_day_follows_the_previous_one() {
        // Walks 1600..2400 day by day: each date is the day after the one before, across leap rules.
        let mut previous = civil_from_days(-135_140); // 1600-01-01
        assert_eq!(previous, (1600, 1, 1));
        for days in -135_139..157_000 {
            let (y, m, d) = civil_from_days(days);
            let (py, pm, pd) = previous;
            let next_day = (y, m, d) == (py, pm, pd + 1);
            let next_month =
                d == 1 && ((y, m) == (py, pm + 1) || (y == py + 1 && m == 1 && pm == 12));
            assert!(next_day || next_month, "{previous:?} -> {:?}", (y, m, d));
            if next_month {
                let leap = py % 4 == 0 && (py % 100 != 0 || py % 400 == 0);
                let len = match pm {
                    2 if leap => 29,
                    2 => 28,
                    4 | 6 | 9 | 11 => 30,
                    _ => 31,
                };
                assert_eq!(pd, len, "{py}-{pm} has {len} days");
            }
            previous = (y, m, d);
        }
    }
}
