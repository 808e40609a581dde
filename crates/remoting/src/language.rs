//! `LanguageCode` and `SerializeType`: two small enums every frame header carries.
//!
//! The language travels as its enum *name* in JSON headers and as one byte in the
//! binary (ROCKETMQ) header. Unknown values are tolerated and read as `OTHER`, because
//! a server must not drop a client over a cosmetic field (book: Appendix "Wire protocol").
//!
//! Mirrors `org.apache.rocketmq.remoting.protocol.LanguageCode` and `SerializeType`.

use std::fmt;

/// The sender's implementation language (4.8.0 has no Rust entry; we send `JAVA`
/// like the servers we replace, so tools that display it see what they expect).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum LanguageCode {
    /// `JAVA` (0): the Java client, and every 4.8.0 server.
    #[default]
    Java,
    /// `CPP` (1): rocketmq-client-cpp, also under the Python and Node.js clients.
    Cpp,
    /// `DOTNET` (2).
    Dotnet,
    /// `PYTHON` (3).
    Python,
    /// `DELPHI` (4).
    Delphi,
    /// `ERLANG` (5).
    Erlang,
    /// `RUBY` (6).
    Ruby,
    /// `OTHER` (7); also what an unknown value reads as.
    Other,
    /// `HTTP` (8).
    Http,
    /// `GO` (9): rocketmq-client-go.
    Go,
    /// `PHP` (10).
    Php,
    /// `OMS` (11): OpenMessaging.
    Oms,
}

const ALL: [LanguageCode; 12] = [
    LanguageCode::Java,
    LanguageCode::Cpp,
    LanguageCode::Dotnet,
    LanguageCode::Python,
    LanguageCode::Delphi,
    LanguageCode::Erlang,
    LanguageCode::Ruby,
    LanguageCode::Other,
    LanguageCode::Http,
    LanguageCode::Go,
    LanguageCode::Php,
    LanguageCode::Oms,
];

impl LanguageCode {
    /// The byte used by the binary header.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// Reads the binary byte; unknown bytes become `Other`.
    pub fn from_code(code: u8) -> LanguageCode {
        ALL.get(code as usize)
            .copied()
            .unwrap_or(LanguageCode::Other)
    }

    /// The Java enum name used in JSON headers.
    pub fn name(self) -> &'static str {
        match self {
            LanguageCode::Java => "JAVA",
            LanguageCode::Cpp => "CPP",
            LanguageCode::Dotnet => "DOTNET",
            LanguageCode::Python => "PYTHON",
            LanguageCode::Delphi => "DELPHI",
            LanguageCode::Erlang => "ERLANG",
            LanguageCode::Ruby => "RUBY",
            LanguageCode::Other => "OTHER",
            LanguageCode::Http => "HTTP",
            LanguageCode::Go => "GO",
            LanguageCode::Php => "PHP",
            LanguageCode::Oms => "OMS",
        }
    }

    /// Parses a JSON name (case-insensitive); unknown names become `Other`.
    pub fn from_name(name: &str) -> LanguageCode {
        ALL.iter()
            .copied()
            .find(|l| l.name().eq_ignore_ascii_case(name))
            .unwrap_or(LanguageCode::Other)
    }
}

impl fmt::Display for LanguageCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How a frame's header is encoded (the top byte of the header-length word).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SerializeType {
    /// JSON text, type byte 0. What 4.8.0 servers send by default and what we reply in.
    #[default]
    Json,
    /// The compact binary header ("ROCKETMQ"), type byte 1.
    RocketMq,
}

impl SerializeType {
    /// The type byte.
    pub fn code(self) -> u8 {
        match self {
            SerializeType::Json => 0,
            SerializeType::RocketMq => 1,
        }
    }

    /// Reads a type byte; `None` for anything but 0 and 1.
    pub fn from_code(code: u8) -> Option<SerializeType> {
        match code {
            0 => Some(SerializeType::Json),
            1 => Some(SerializeType::RocketMq),
            _ => None,
        }
    }

    /// The name Java puts into `serializeTypeCurrentRPC`.
    pub fn name(self) -> &'static str {
        match self {
            SerializeType::Json => "JSON",
            SerializeType::RocketMq => "ROCKETMQ",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_round_trip() {
        for l in ALL {
            assert_eq!(LanguageCode::from_code(l.code()), l);
            assert_eq!(LanguageCode::from_name(l.name()), l);
        }
        assert_eq!(LanguageCode::Go.code(), 9);
        assert_eq!(LanguageCode::from_code(200), LanguageCode::Other);
        assert_eq!(LanguageCode::from_name("RUST"), LanguageCode::Other);
        assert_eq!(LanguageCode::from_name("cpp"), LanguageCode::Cpp);
    }
}
