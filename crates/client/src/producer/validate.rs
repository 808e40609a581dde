//! Checks a message before it leaves the client, so obviously bad input fails
//! fast with a clear message instead of a broker error code.
//!
//! Book: Part II "Producing". Mirrors `Validators.checkMessage` / `checkTopic`.

use crate::error::{ClientError, Result};
use crate::message::Message;

/// `Validators.TOPIC_MAX_LENGTH`.
pub const TOPIC_MAX_LENGTH: usize = 127;
/// Topics a producer may never write (`TopicValidator.isNotAllowedSendTopic`).
const NOT_ALLOWED_SEND_TOPICS: &[&str] = &["SCHEDULE_TOPIC_XXXX"];

/// `^[%|a-zA-Z0-9_-]+$`, blank and length checks.
pub fn check_topic(topic: &str) -> Result<()> {
    if topic.trim().is_empty() {
        return Err(ClientError::InvalidArgument(
            "The specified topic is blank".into(),
        ));
    }
    let legal = |c: char| c.is_ascii_alphanumeric() || matches!(c, '%' | '|' | '_' | '-');
    if !topic.chars().all(legal) {
        return Err(ClientError::InvalidArgument(format!(
            "The specified topic[{topic}] contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$"
        )));
    }
    if topic.len() > TOPIC_MAX_LENGTH {
        return Err(ClientError::InvalidArgument(format!(
            "The specified topic is longer than topic max length {TOPIC_MAX_LENGTH}."
        )));
    }
    Ok(())
}

/// Topic rules plus a non-empty body no larger than `max_size`.
pub fn check_message(msg: &Message, max_size: usize) -> Result<()> {
    check_topic(&msg.topic)?;
    if NOT_ALLOWED_SEND_TOPICS.contains(&msg.topic.as_str()) {
        return Err(ClientError::InvalidArgument(format!(
            "Sending message to topic[{}] is forbidden.",
            msg.topic
        )));
    }
    if msg.body.is_empty() {
        return Err(ClientError::InvalidArgument(
            "the message body length is zero".into(),
        ));
    }
    if msg.body.len() > max_size {
        return Err(ClientError::InvalidArgument(format!(
            "the message body size over max value, MAX: {max_size}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics() {
        assert!(check_topic("Topic_A-1%|x").is_ok());
        assert!(check_topic(" ").is_err());
        assert!(check_topic("a b").is_err());
        assert!(check_topic(&"a".repeat(128)).is_err());
        assert!(check_topic(&"a".repeat(127)).is_ok());
    }

    #[test]
    fn messages() {
        assert!(check_message(&Message::new("T", &b""[..]), 10).is_err());
        assert!(check_message(&Message::new("T", vec![0u8; 11]), 10).is_err());
        assert!(check_message(&Message::new("SCHEDULE_TOPIC_XXXX", &b"x"[..]), 10).is_err());
        assert!(check_message(&Message::new("T", &b"x"[..]), 10).is_ok());
    }
}
