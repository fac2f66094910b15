//! The egress policy: which addresses a node may open connections to on a tenant's behalf
//! (invokes and health checks). Tenants choose upstream URLs, so without it any account could
//! read the host's cloud metadata (`http://169.254.169.254`), the platform's own API, or
//! anything on the operator's private network, through the invoke path.
//!
//! Enforced at connect time: the [`EgressResolver`] is the only name resolver of the
//! executor's HTTP clients; it resolves, checks **every** address, and hands the connector
//! only checked addresses (so a name that later resolves elsewhere — DNS rebinding — cannot
//! slip past: there is no second resolution). Addresses written literally in a URL never reach
//! a resolver, so [`EgressPolicy::check_url`] checks them before the call. Proxies from the
//! environment, userinfo and redirects are not used (see `services/executor.rs`).
//!
//! Always refused: unspecified, link-local (169.254.0.0/16 — cloud metadata — and fe80::/10),
//! multicast, broadcast, the other IANA special-purpose ranges, IPv4 embedded in IPv6
//! (mapped, compatible, NAT64, 6to4) when the embedded address is refused, and the platform's
//! own HTTP and mesh listeners. Refused unless the operator allows them (`egress_allow`):
//! loopback, RFC 1918 private ranges, CGNAT (100.64.0.0/10) and unique-local IPv6 (fc00::/7).
use ipnet::IpNet;
use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::{Arc, RwLock},
};

/// Why an address may not be connected to. The message is what callers see: it names the
/// kind of address, never anything the host's network stack said.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("The upstream URL may not carry a user name or password.")]
    Userinfo,
    #[error("The upstream URL is not a valid http(s) URL.")]
    BadUrl,
    #[error("The upstream is on a {0} address, which the platform never connects to.")]
    Never(&'static str),
    #[error(
        "The upstream is on a {0} address, which this platform does not allow (its operator can, with egress_allow)."
    )]
    NotAllowed(&'static str),
    #[error("The upstream is one of the platform's own listeners.")]
    OwnListener,
    #[error("The upstream's name resolves to no address.")]
    NoAddress,
}

/// The policy of one process.
#[derive(Debug, Default)]
pub struct EgressPolicy {
    /// Ranges the operator allowed beyond public addresses (e.g. `127.0.0.0/8`).
    allow: Vec<IpNet>,
    /// The platform's own listeners in this process (never a tenant's upstream).
    own: RwLock<Vec<SocketAddr>>,
}

/// What kind of address this is, when it is not an ordinary public one.
fn special(ip: IpAddr) -> Option<(bool, &'static str)> {
    // (always refused?, name)
    match ip {
        IpAddr::V4(v4) => special_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = embedded_v4(v6) {
                return special_v4(v4);
            }
            let s = v6.segments();
            if v6.is_unspecified() {
                Some((true, "unspecified"))
            } else if v6.is_loopback() {
                Some((false, "loopback"))
            } else if v6.is_multicast() {
                Some((true, "multicast"))
            } else if s[0] & 0xffc0 == 0xfe80 {
                Some((true, "link-local"))
            } else if s[0] & 0xfe00 == 0xfc00 {
                Some((false, "unique-local"))
            } else if s[0] == 0x2001 && s[1] == 0x0db8 {
                Some((true, "documentation"))
            } else if s[0] == 0x0100 && s[1] == 0 && s[2] == 0 && s[3] == 0 {
                Some((true, "discard-only"))
            } else {
                None
            }
        }
    }
}

fn special_v4(ip: Ipv4Addr) -> Option<(bool, &'static str)> {
    let [a, b, c, _] = ip.octets();
    if ip.is_unspecified() || a == 0 {
        Some((true, "unspecified"))
    } else if ip.is_broadcast() {
        Some((true, "broadcast"))
    } else if ip.is_loopback() {
        Some((false, "loopback"))
    } else if ip.is_link_local() {
        Some((true, "link-local"))
    } else if ip.is_multicast() || a >= 240 {
        Some((true, if ip.is_multicast() { "multicast" } else { "reserved" }))
    } else if ip.is_private() {
        Some((false, "private"))
    } else if a == 100 && (64..128).contains(&b) {
        Some((false, "shared (CGNAT)"))
    } else if a == 192 && b == 0 && c == 0 {
        Some((true, "IETF protocol"))
    } else if (a == 192 && b == 0 && c == 2)
        || (a == 198 && b == 51 && c == 100)
        || (a == 203 && b == 0 && c == 113)
    {
        Some((true, "documentation"))
    } else if a == 198 && (b == 18 || b == 19) {
        Some((true, "benchmarking"))
    } else {
        None
    }
}

/// An IPv4 address an IPv6 one carries: mapped (`::ffff:a.b.c.d`), compatible (`::a.b.c.d`),
/// NAT64 (`64:ff9b::/96`) or 6to4 (`2002:AABB:CCDD::/48`).
fn embedded_v4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = v6.segments();
    let tail = || Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    if let Some(v4) = v6.to_ipv4_mapped() {
        Some(v4)
    } else if (s[..6] == [0; 6] && !(s[6] == 0 && s[7] <= 1))
        || (s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0; 4])
    {
        Some(tail())
    } else if s[0] == 0x2002 {
        Some(Ipv4Addr::new((s[1] >> 8) as u8, s[1] as u8, (s[2] >> 8) as u8, s[2] as u8))
    } else {
        None
    }
}

impl EgressPolicy {
    /// A policy allowing `allow` beyond public addresses.
    pub fn new(allow: Vec<IpNet>) -> Self {
        Self { allow, own: RwLock::default() }
    }

    /// Records one of the platform's own listeners.
    pub fn add_own(&self, addr: SocketAddr) {
        self.own.write().unwrap_or_else(|e| e.into_inner()).push(addr);
    }

    /// The ranges the operator allowed.
    pub fn allowed(&self) -> &[IpNet] {
        &self.allow
    }

    /// Whether connecting to `ip` is allowed (any port but the platform's own).
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), Refusal> {
        match special(ip) {
            None => Ok(()),
            Some((true, kind)) => Err(Refusal::Never(kind)),
            Some((false, kind)) => {
                let v4 = match ip {
                    IpAddr::V6(v6) => embedded_v4(v6).map(IpAddr::V4),
                    IpAddr::V4(_) => None,
                };
                if self.allow.iter().any(|net| net.contains(&ip) || v4.is_some_and(|v4| net.contains(&v4))) {
                    Ok(())
                } else {
                    Err(Refusal::NotAllowed(kind))
                }
            }
        }
    }

    /// Whether connecting to `addr` is allowed: its address, and that it is not one of the
    /// platform's own listeners (a listener on `0.0.0.0`/`::` counts on every local address).
    pub fn check(&self, addr: SocketAddr) -> Result<(), Refusal> {
        self.check_ip(addr.ip())?;
        let own = self.own.read().unwrap_or_else(|e| e.into_inner());
        let ip = canonical(addr.ip());
        let local = ip.is_loopback();
        if own.iter().any(|o| {
            o.port() == addr.port() && (canonical(o.ip()) == ip || (o.ip().is_unspecified() && local))
        }) {
            return Err(Refusal::OwnListener);
        }
        Ok(())
    }

    /// What can be checked before any name is resolved: scheme, userinfo, and an address
    /// written literally (it is connected to without a resolver). Registration uses this to
    /// refuse URLs that can never be called; the executor uses it before every call.
    pub fn check_url(&self, url: &str) -> Result<(), Refusal> {
        let url = reqwest::Url::parse(url).map_err(|_| Refusal::BadUrl)?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Refusal::BadUrl);
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Refusal::Userinfo);
        }
        let port = url.port_or_known_default().ok_or(Refusal::BadUrl)?;
        match url.host().ok_or(Refusal::BadUrl)? {
            url::Host::Ipv4(ip) => self.check(SocketAddr::new(IpAddr::V4(ip), port)),
            url::Host::Ipv6(ip) => self.check(SocketAddr::new(IpAddr::V6(ip), port)),
            url::Host::Domain(_) => Ok(()),
        }
    }
}

impl EgressPolicy {
    /// [`check_url`](Self::check_url), and for a name on the port of one of the platform's
    /// own listeners, that the name does not resolve to that listener (the resolver checks
    /// addresses, not ports).
    pub async fn check_target(&self, url: &str) -> Result<(), Refusal> {
        self.check_url(url)?;
        let parsed = reqwest::Url::parse(url).map_err(|_| Refusal::BadUrl)?;
        let port = parsed.port_or_known_default().ok_or(Refusal::BadUrl)?;
        let own_port = self.own.read().unwrap_or_else(|e| e.into_inner()).iter().any(|o| o.port() == port);
        if let (true, Some(url::Host::Domain(name))) = (own_port, parsed.host()) {
            let addrs = tokio::net::lookup_host((name, port)).await.map_err(|_| Refusal::NoAddress)?;
            for addr in addrs {
                self.check(addr)?;
            }
        }
        Ok(())
    }
}

/// `::ffff:a.b.c.d` as `a.b.c.d`, so one listener is one address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The executor's name resolver: the system's resolver, then the policy on every address.
/// A name with any refused address is refused whole (an attacker's name may list a public
/// address first and the metadata address second).
pub struct EgressResolver {
    pub policy: Arc<EgressPolicy>,
}

impl reqwest::dns::Resolve for EgressResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if addrs.is_empty() {
                return Err(Box::new(Refusal::NoAddress) as Box<dyn std::error::Error + Send + Sync>);
            }
            for addr in &addrs {
                // The port is the URL's, set by the connector after this; own listeners on
                // addresses a name resolves to are refused by address when loopback is not
                // allowed, and by `check_url` for literal addresses.
                policy
                    .check_ip(addr.ip())
                    .map_err(|r| Box::new(r) as Box<dyn std::error::Error + Send + Sync>)?;
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// An HTTP client builder for calls to tenant-chosen addresses: every address checked by
/// `policy` at connect time, no proxies from the environment, no redirects followed.
pub fn client_builder(policy: Arc<EgressPolicy>) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(Arc::new(EgressResolver { policy }))
        .tcp_nodelay(true)
}

/// The refusal behind an error of a call, if the egress policy refused it.
pub fn refusal_in(err: &(dyn std::error::Error + 'static)) -> Option<Refusal> {
    let mut cause = Some(err);
    while let Some(e) = cause {
        if let Some(r) = e.downcast_ref::<Refusal>() {
            return Some(r.clone());
        }
        cause = e.source();
    }
    None
}

/// Parses `egress_allow` entries: CIDRs (`10.0.0.0/8`) or single addresses.
pub fn parse_allow(entries: &[String]) -> anyhow::Result<Vec<IpNet>> {
    entries
        .iter()
        .flat_map(|e| e.split(','))
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|e| {
            e.parse::<IpNet>()
                .or_else(|_| e.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| anyhow::anyhow!("egress_allow: {e:?} is not an address or CIDR range"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn metadata_and_other_never_reachable_addresses_are_refused_whatever_is_allowed() {
        let open = EgressPolicy::new(parse_allow(&["0.0.0.0/0".into(), "::/0".into()]).unwrap());
        for never in [
            "169.254.169.254",
            "0.0.0.0",
            "0.1.2.3",
            "255.255.255.255",
            "224.0.0.1",
            "240.0.0.1",
            "fe80::1",
            "::",
            "ff02::1",
            "::ffff:169.254.169.254",
            "::169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "2002:a9fe:a9fe::1",
        ] {
            assert!(matches!(open.check_ip(ip(never)), Err(Refusal::Never(_))), "{never}");
        }
    }

    #[test]
    fn private_ranges_are_refused_unless_allowed_in_every_spelling() {
        let strict = EgressPolicy::default();
        for private in [
            "127.0.0.1",
            "::1",
            "10.0.0.5",
            "172.16.0.1",
            "192.168.1.1",
            "100.64.0.1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.5",
            "::7f00:1",
        ] {
            assert!(matches!(strict.check_ip(ip(private)), Err(Refusal::NotAllowed(_))), "{private}");
        }
        for public in ["93.184.216.34", "2606:2800:220:1::1", "8.8.8.8"] {
            assert_eq!(strict.check_ip(ip(public)), Ok(()), "{public}");
        }
        let loopback = EgressPolicy::new(parse_allow(&["127.0.0.0/8".into()]).unwrap());
        assert_eq!(loopback.check_ip(ip("127.0.0.1")), Ok(()));
        assert_eq!(loopback.check_ip(ip("::ffff:127.0.0.1")), Ok(()));
        assert!(loopback.check_ip(ip("10.0.0.5")).is_err());
    }

    #[test]
    fn the_platforms_own_listeners_are_refused_even_when_loopback_is_allowed() {
        let policy = EgressPolicy::new(parse_allow(&["127.0.0.0/8".into()]).unwrap());
        policy.add_own("127.0.0.1:3000".parse().unwrap());
        policy.add_own("0.0.0.0:7001".parse().unwrap());
        assert_eq!(policy.check("127.0.0.1:3000".parse().unwrap()), Err(Refusal::OwnListener));
        assert_eq!(policy.check("[::ffff:127.0.0.1]:3000".parse().unwrap()), Err(Refusal::OwnListener));
        assert_eq!(policy.check("127.0.0.1:7001".parse().unwrap()), Err(Refusal::OwnListener));
        assert_eq!(policy.check("127.0.0.1:9000".parse().unwrap()), Ok(()));
    }

    #[test]
    fn urls_with_userinfo_or_refused_literal_addresses_are_refused_before_any_lookup() {
        let policy = EgressPolicy::default();
        assert_eq!(policy.check_url("http://user:pw@example.com/"), Err(Refusal::Userinfo));
        assert!(policy.check_url("http://169.254.169.254/latest/meta-data").is_err());
        assert!(policy.check_url("http://[::ffff:127.0.0.1]:3000/").is_err());
        // Decimal and hex spellings are normalised by the URL parser to the same address.
        assert!(policy.check_url("http://2130706433/").is_err());
        assert!(policy.check_url("http://0x7f.1/").is_err());
        assert_eq!(policy.check_url("https://api.example.com/v1"), Ok(()));
        assert_eq!(policy.check_url("ftp://example.com/"), Err(Refusal::BadUrl));
        assert!(parse_allow(&["nonsense".into()]).is_err());
        assert_eq!(parse_allow(&["127.0.0.1, 10.0.0.0/8".into()]).unwrap().len(), 2);
    }
}
