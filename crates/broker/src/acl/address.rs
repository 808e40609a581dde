//! White-list address patterns of plain_acl.yml (`globalWhiteRemoteAddresses`, an account's
//! `whiteRemoteAddress`) and how a client address is matched against them.
//!
//! The forms, tried in this order as 4.8.0 does:
//! * blank: matches nothing;
//! * `*`, `*.*.*.*`, `*:*:*:*:*:*:*:*`: matches every address;
//! * `a.b.c.{x,y,z}` (or an IPv6 prefix with `{..}` last): exactly those addresses;
//! * `ip1,ip2,...`: exactly those addresses;
//! * an octet that is `*` or `n-m` (the first such octet among the 2nd to 4th decides; the
//!   octets before it must match exactly): a range;
//! * anything else: one IPv4 or IPv6 address (IPv6 compared in its expanded form).
//!
//! A pattern that is none of these (a bad address, `10.0.0.300`, a range `9-3`) makes the
//! whole file invalid, as it makes 4.8.0's load throw.
//! Book: Part II, "Who may do what: ACL". Mirrors `RemoteAddressStrategyFactory` and the
//! address helpers of `AclUtils` (4.8.0).

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A compiled white-list pattern.
#[derive(Debug, Clone, PartialEq)]
pub enum AddressPattern {
    /// Blank: no address matches (`BlankRemoteAddressStrategy`).
    Nothing,
    /// `*` and friends: every address matches (`NullRemoteAddressStrategy`).
    Everything,
    /// A set of addresses (`MultipleRemoteAddressStrategy`).
    Set(HashSet<IpAddr>),
    /// IPv4: `head` (the first `index` octets) exact, octet `index` in `start..=end`, the
    /// octets after it anything (`RangeRemoteAddressStrategy`).
    RangeV4 {
        /// The octets before the ranged one.
        head: Vec<u8>,
        /// Which octet is ranged (1, 2 or 3).
        index: usize,
        /// Lowest value of that octet.
        start: u8,
        /// Highest value of that octet.
        end: u8,
    },
    /// IPv6: the groups before `head.len()` exact, the next group in `start..=end`, the
    /// rest anything.
    RangeV6 {
        /// The groups before the ranged one.
        head: Vec<u16>,
        /// Lowest value of the ranged group.
        start: u16,
        /// Highest value of the ranged group.
        end: u16,
    },
    /// One address (`OneRemoteAddressStrategy`).
    One(IpAddr),
}

/// Why a pattern is refused; the text is 4.8.0's exception message where it has one.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct BadPattern(pub String);

fn bad(addr: &str) -> BadPattern {
    BadPattern(format!("Netaddress examine Exception netaddress is {addr}"))
}

fn bad_scope(addr: &str) -> BadPattern {
    BadPattern(format!(
        "Netaddress examine scope Exception netaddress is {addr}"
    ))
}

/// One address as 4.8.0's `InetAddressValidator` accepts it (dotted quad, or IPv6).
fn parse_ip(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    if let Ok(v4) = s.parse::<Ipv4Addr>() {
        return Some(IpAddr::V4(v4));
    }
    s.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
}

impl AddressPattern {
    /// Compiles `pattern` (`None` or blank: [`AddressPattern::Nothing`]).
    pub fn parse(pattern: Option<&str>) -> Result<Self, BadPattern> {
        let p = match pattern {
            Some(p) if !p.trim().is_empty() => p,
            _ => return Ok(AddressPattern::Nothing),
        };
        if p == "*" || p == "*.*.*.*" || p == "*:*:*:*:*:*:*:*" {
            return Ok(AddressPattern::Everything);
        }
        if p.ends_with('}') {
            let open = p.find('{').ok_or_else(|| bad(p))?;
            let (prefix, list) = (&p[..open], &p[open + 1..p.len() - 1]);
            if !(prefix.ends_with('.') || prefix.ends_with(':')) {
                return Err(bad_scope(p));
            }
            let set = list
                .split(',')
                .filter(|s| !s.is_empty())
                .map(|last| parse_ip(&format!("{prefix}{last}")).ok_or_else(|| bad(p)))
                .collect::<Result<HashSet<_>, _>>()?;
            return Ok(AddressPattern::Set(set));
        }
        if p.contains(',') {
            let set = p
                .split(',')
                .filter(|s| !s.is_empty())
                .map(|a| parse_ip(a).ok_or_else(|| bad(a)))
                .collect::<Result<HashSet<_>, _>>()?;
            return Ok(AddressPattern::Set(set));
        }
        if p.contains('*') || p.contains('-') {
            return if p.contains(':') {
                Self::range_v6(p)
            } else {
                Self::range_v4(p)
            };
        }
        parse_ip(p).map(AddressPattern::One).ok_or_else(|| bad(p))
    }

    fn range_v4(p: &str) -> Result<Self, BadPattern> {
        let octets: Vec<&str> = p.split('.').filter(|s| !s.is_empty()).collect();
        if octets.len() != 4 {
            return Err(bad_scope(p));
        }
        for index in 1..4 {
            let v = octets[index].trim();
            let (start, end) = if v == "*" {
                (0u32, 255u32)
            } else if let Some((a, b)) = v.split_once('-') {
                let range = |s: &str| s.trim().parse::<u32>().ok().filter(|n| *n <= 255);
                match (range(a), range(b)) {
                    (Some(a), Some(b)) if a <= b => (a, b),
                    _ => {
                        return Err(BadPattern(format!(
                        "RangeRemoteAddressStrategy netaddress examine scope Exception value {v} "
                    )))
                    }
                }
            } else {
                continue;
            };
            let head = octets[..index]
                .iter()
                .map(|o| o.trim().parse::<u8>().map_err(|_| bad_scope(p)))
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(AddressPattern::RangeV4 {
                head,
                index,
                start: start as u8,
                end: end as u8,
            });
        }
        // "*.1.2.3": 4.8.0 builds a strategy without a head that fails on every match.
        Err(bad_scope(p))
    }

    fn range_v6(p: &str) -> Result<Self, BadPattern> {
        let groups: Vec<&str> = p.split(':').collect();
        let pos = groups
            .iter()
            .position(|g| *g == "*" || g.contains('-'))
            .ok_or_else(|| bad_scope(p))?;
        let head = groups[..pos]
            .iter()
            .map(|g| u16::from_str_radix(g.trim(), 16).map_err(|_| bad_scope(p)))
            .collect::<Result<Vec<_>, _>>()?;
        let g = groups[pos].trim();
        let (start, end) = if g == "*" {
            (0, 0xffff)
        } else {
            let (a, b) = g.split_once('-').ok_or_else(|| bad_scope(p))?;
            match (
                u16::from_str_radix(a.trim(), 16),
                u16::from_str_radix(b.trim(), 16),
            ) {
                (Ok(a), Ok(b)) if a <= b => (a, b),
                _ => return Err(bad_scope(p)),
            }
        };
        Ok(AddressPattern::RangeV6 { head, start, end })
    }

    /// Whether the client at `ip` matches.
    pub fn matches(&self, ip: &IpAddr) -> bool {
        match self {
            AddressPattern::Nothing => false,
            AddressPattern::Everything => true,
            AddressPattern::Set(set) => set.contains(ip),
            AddressPattern::One(one) => one == ip,
            AddressPattern::RangeV4 {
                head,
                index,
                start,
                end,
            } => match ip {
                IpAddr::V4(v4) => {
                    let o = v4.octets();
                    o[..*index] == head[..] && (*start..=*end).contains(&o[*index])
                }
                IpAddr::V6(_) => false,
            },
            AddressPattern::RangeV6 { head, start, end } => match ip {
                IpAddr::V6(v6) => {
                    let s = v6.segments();
                    head.len() < 8
                        && s[..head.len()] == head[..]
                        && (*start..=*end).contains(&s[head.len()])
                }
                IpAddr::V4(_) => false,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, ip: &str) -> bool {
        AddressPattern::parse(Some(p))
            .unwrap()
            .matches(&ip.parse().unwrap())
    }

    #[test]
    fn the_forms_of_the_4_8_0_sample_file_and_docs() {
        assert!(m("10.10.103.*", "10.10.103.7"));
        assert!(!m("10.10.103.*", "10.10.104.7"));
        assert!(m("192.168.1-10.*", "192.168.10.200"));
        assert!(!m("192.168.1-10.*", "192.168.11.1"));
        assert!(m("192.168.*.*", "192.168.77.1"));
        assert!(m("1.1.1.{1,2}", "1.1.1.2"));
        assert!(!m("1.1.1.{1,2}", "1.1.1.3"));
        assert!(m("127.0.0.1,10.0.0.1", "10.0.0.1"));
        assert!(m("127.0.0.1", "127.0.0.1"));
        assert!(!m("127.0.0.1", "127.0.0.2"));
        assert!(m("*", "8.8.8.8"));
        assert!(m("::1", "0:0:0:0:0:0:0:1"));
        assert!(m("2001:db8:0:0:*", "2001:db8::5"));
        assert!(!AddressPattern::parse(None)
            .unwrap()
            .matches(&"1.2.3.4".parse().unwrap()));
        assert!(!AddressPattern::parse(Some("  "))
            .unwrap()
            .matches(&"1.2.3.4".parse().unwrap()));
    }

    #[test]
    fn malformed_patterns_are_refused() {
        for p in ["10.0.0.300", "10.0.9-3.*", "hello", "10.0.*", "1.1.1.{1,x}"] {
            assert!(AddressPattern::parse(Some(p)).is_err(), "{p}");
        }
    }
}
