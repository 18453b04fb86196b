//! The login throttle's rule: how long a source of failed logins waits before its next try.
//!
//! Failures are counted per (username, client address), so that an outsider guessing one
//! account from one address is slowed without locking the account's owner out, and per
//! client address, so that one address spraying many usernames is slowed too. A correct
//! password clears the failures of its (username, address). Each key gets a few free tries;
//! past them every try waits after the last failure, the wait doubling with each further
//! batch of failures (backoff) up to a ceiling.

use chrono::{DateTime, Duration, Utc};

/// The throttle of one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Failures within the look-back that cost nothing.
    pub free: u32,
    /// The wait after the free failures; it doubles with every further `free` failures.
    pub first_wait: Duration,
    /// The longest wait.
    pub longest_wait: Duration,
}

/// How far back failures count: older ones are forgotten (and purged).
pub fn look_back() -> Duration {
    Duration::hours(24)
}

/// One username from one client address: a person mistyping, or someone guessing.
pub const PER_ACCOUNT_AND_ADDRESS: Policy = Policy {
    free: 5,
    first_wait: Duration::minutes(15),
    longest_wait: Duration::hours(24),
};

/// One client address, whatever the usernames (an office behind one address has many users).
pub const PER_ADDRESS: Policy = Policy {
    free: 50,
    first_wait: Duration::minutes(15),
    longest_wait: Duration::hours(24),
};

/// The failures of one key within the look-back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failures {
    pub count: u32,
    pub last: Option<DateTime<Utc>>,
}

impl Policy {
    /// When the next try is allowed, or `None` when it is allowed now.
    pub fn wait_until(&self, failures: Failures, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if failures.count < self.free {
            return None;
        }
        let doublings = ((failures.count - self.free) / self.free).min(16);
        let wait = (self.first_wait * 2i32.pow(doublings)).min(self.longest_wait);
        let until = failures.last? + wait;
        (until > now).then_some(until)
    }
}

/// When a login attempt from a client may go ahead, given the failures of its (username,
/// client) and of its client: the later of the two waits, or `None` for now.
pub fn login_wait_until(
    account_and_address: Failures,
    address: Failures,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let account = PER_ACCOUNT_AND_ADDRESS.wait_until(account_and_address, now);
    let client = PER_ADDRESS.wait_until(address, now);
    account.max(client)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap() + Duration::minutes(minutes)
    }

    fn failures(count: u32, last: i64) -> Failures {
        Failures {
            count,
            last: Some(at(last)),
        }
    }

    #[test]
    fn free_tries_then_a_wait_that_doubles_per_batch() {
        let p = PER_ACCOUNT_AND_ADDRESS;
        assert_eq!(p.wait_until(failures(4, 0), at(0)), None);
        assert_eq!(p.wait_until(failures(5, 0), at(0)), Some(at(15)));
        assert_eq!(p.wait_until(failures(5, 0), at(15)), None);
        assert_eq!(p.wait_until(failures(9, 0), at(1)), Some(at(15)));
        assert_eq!(p.wait_until(failures(10, 0), at(1)), Some(at(30)));
        assert_eq!(p.wait_until(failures(15, 0), at(1)), Some(at(60)));
        assert_eq!(p.wait_until(failures(500, 0), at(1)), Some(at(24 * 60)));
    }

    #[test]
    fn the_later_wait_of_account_and_address_holds() {
        let few = failures(1, 0);
        assert_eq!(login_wait_until(few, few, at(1)), None);
        assert_eq!(login_wait_until(failures(5, 0), few, at(1)), Some(at(15)));
        assert_eq!(
            login_wait_until(failures(10, 0), failures(50, 10), at(11)),
            Some(at(30))
        );
        assert_eq!(
            login_wait_until(few, failures(50, 10), at(11)),
            Some(at(25))
        );
    }

    #[test]
    fn no_failures_no_wait() {
        let none = Failures {
            count: 0,
            last: None,
        };
        assert_eq!(PER_ADDRESS.wait_until(none, at(0)), None);
    }
}
