//! A reader for Java `.properties` text, the format of every RocketMQ config file
//! (`broker.conf`, `namesrv.conf`). It exists so that all binaries accept the same syntax the
//! Java `Properties.load` does for the files people actually write: `#`/`!` comments, `=`, `:`
//! or a blank as the separator, trailing-backslash continuation lines, blanks trimmed.
//! Book: Quick start ("Configuration files"). Mirrors `MixAll.file2String` + `Properties.load`.

/// Parses `.properties` text into key/value pairs in file order (a later duplicate key is kept
/// as a second pair; callers apply pairs in order, so the last one wins as in Java).
pub fn parse_properties(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut logical = String::new();
    for raw in text.lines() {
        let line = raw.trim_start();
        if logical.is_empty() && (line.is_empty() || line.starts_with('#') || line.starts_with('!'))
        {
            continue;
        }
        // An odd number of trailing backslashes continues the line.
        let trailing = line.chars().rev().take_while(|c| *c == '\\').count();
        let continued = trailing % 2 == 1;
        logical.push_str(if continued {
            &line[..line.len() - 1]
        } else {
            line
        });
        if continued {
            continue;
        }
        push_entry(&mut out, &std::mem::take(&mut logical));
    }
    if !logical.is_empty() {
        push_entry(&mut out, &logical);
    }
    out
}

fn push_entry(out: &mut Vec<(String, String)>, entry: &str) {
    // the separator may be a multi-byte whitespace character: split after all of it
    let split = entry
        .char_indices()
        .find(|(_, c)| *c == '=' || *c == ':')
        .or_else(|| entry.char_indices().find(|(_, c)| c.is_whitespace()));
    let (key, value) = match split {
        Some((i, c)) => (&entry[..i], &entry[i + c.len_utf8()..]),
        None => (entry, ""),
    };
    let key = key.trim();
    if !key.is_empty() {
        out.push((key.to_string(), value.trim().to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_multi_byte_whitespace_separator_splits_cleanly() {
        let props = parse_properties("listenPort\u{00A0}9876\nname\u{3000}n1\nk=v\u{00A0}");
        assert_eq!(
            props,
            vec![
                ("listenPort".to_string(), "9876".to_string()),
                ("name".to_string(), "n1".to_string()),
                ("k".to_string(), "v".to_string()),
            ]
        );
    }

    #[test]
    fn parses_comments_separators_and_continuations() {
        let props = parse_properties(
            "# comment\n! also\nlistenPort=9877\nkvConfigPath : /tmp/kv.json\nlong=a\\\n  b\nflag true\n\nlast=1\\",
        );
        assert_eq!(
            props,
            vec![
                ("listenPort".into(), "9877".into()),
                ("kvConfigPath".into(), "/tmp/kv.json".into()),
                ("long".into(), "ab".into()),
                ("flag".into(), "true".into()),
                ("last".into(), "1".into()),
            ]
        );
    }

    #[test]
    fn dledger_peers_keep_their_separators() {
        let props = parse_properties("dLegerPeers=n0-127.0.0.1:40911;n1-127.0.0.1:40921\n");
        assert_eq!(props[0].1, "n0-127.0.0.1:40911;n1-127.0.0.1:40921");
    }
}
