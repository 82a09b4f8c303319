//! Commands: what a client's arguments ask for, checked before anything
//! runs. A command that does not parse is answered with the error text of
//! [`Command::parse`], as Redis words it.

use std::time::Duration;

/// One parsed command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `PING [message]`
    Ping(Option<Vec<u8>>),
    /// `GET key`
    Get(Vec<u8>),
    /// `SET key value [EX seconds | PX milliseconds]`
    Set {
        /// The key.
        key: Vec<u8>,
        /// The value.
        value: Vec<u8>,
        /// How long the key lives; `None`: until deleted.
        expire: Option<Duration>,
    },
    /// `DEL key [key ...]`
    Del(Vec<Vec<u8>>),
    /// `DBSIZE`: the keys held, counting expired ones the expiry task has
    /// not dropped yet.
    DbSize,
    /// `PUBLISH channel message`
    Publish {
        /// The channel.
        channel: Vec<u8>,
        /// The message.
        message: Vec<u8>,
    },
    /// `SUBSCRIBE channel [channel ...]`
    Subscribe(Vec<Vec<u8>>),
    /// `UNSUBSCRIBE [channel ...]`; no channel: all of them.
    Unsubscribe(Vec<Vec<u8>>),
}

impl Command {
    /// Parses a command from its arguments, the first being its name (in
    /// any case). The error is the text of the error reply.
    ///
    /// ```
    /// use redis_pubsub::command::Command;
    /// use std::time::Duration;
    ///
    /// let args = ["set", "k", "v", "EX", "10"].map(|arg| arg.as_bytes().to_vec());
    /// let command = Command::parse(args.to_vec()).unwrap();
    /// assert_eq!(
    ///     command,
    ///     Command::Set { key: b"k".to_vec(), value: b"v".to_vec(), expire: Some(Duration::from_secs(10)) },
    /// );
    /// ```
    pub fn parse(args: Vec<Vec<u8>>) -> Result<Command, String> {
        let mut args = args.into_iter();
        let Some(name) = args.next() else {
            return Err("ERR empty command".to_string());
        };
        let name = String::from_utf8_lossy(&name).to_ascii_lowercase();
        let args: Vec<Vec<u8>> = args.collect();
        let arity = |ok: bool| {
            if ok {
                Ok(())
            } else {
                Err(format!(
                    "ERR wrong number of arguments for '{name}' command"
                ))
            }
        };
        match name.as_str() {
            "ping" => {
                arity(args.len() <= 1)?;
                Ok(Command::Ping(args.into_iter().next()))
            }
            "get" => {
                arity(args.len() == 1)?;
                Ok(Command::Get(args.into_iter().next().unwrap_or_default()))
            }
            "set" => {
                arity(args.len() >= 2)?;
                let mut args = args.into_iter();
                let key = args.next().unwrap_or_default();
                let value = args.next().unwrap_or_default();
                let expire = match (args.next(), args.next(), args.next()) {
                    (None, _, _) => None,
                    (Some(unit), Some(amount), None) => Some(parse_expire(&unit, &amount)?),
                    _ => return Err("ERR syntax error".to_string()),
                };
                Ok(Command::Set { key, value, expire })
            }
            "del" => {
                arity(!args.is_empty())?;
                Ok(Command::Del(args))
            }
            "dbsize" => {
                arity(args.is_empty())?;
                Ok(Command::DbSize)
            }
            "publish" => {
                arity(args.len() == 2)?;
                let mut args = args.into_iter();
                let channel = args.next().unwrap_or_default();
                let message = args.next().unwrap_or_default();
                Ok(Command::Publish { channel, message })
            }
            "subscribe" => {
                arity(!args.is_empty())?;
                Ok(Command::Subscribe(args))
            }
            "unsubscribe" => Ok(Command::Unsubscribe(args)),
            _ => Err(format!("ERR unknown command '{}'", name.escape_default())),
        }
    }

    /// Whether a client subscribed to channels may send this command.
    pub fn allowed_while_subscribed(&self) -> bool {
        matches!(
            self,
            Command::Ping(_) | Command::Subscribe(_) | Command::Unsubscribe(_)
        )
    }
}

/// `EX seconds` or `PX milliseconds`.
fn parse_expire(unit: &[u8], amount: &[u8]) -> Result<Duration, String> {
    let amount: i64 = std::str::from_utf8(amount)
        .ok()
        .and_then(|text| text.parse().ok())
        .ok_or_else(|| "ERR value is not an integer or out of range".to_string())?;
    if amount <= 0 {
        return Err("ERR invalid expire time in 'set' command".to_string());
    }
    if unit.eq_ignore_ascii_case(b"ex") {
        Ok(Duration::from_secs(amount as u64))
    } else if unit.eq_ignore_ascii_case(b"px") {
        Ok(Duration::from_millis(amount as u64))
    } else {
        Err("ERR syntax error".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(words: &[&str]) -> Result<Command, String> {
        Command::parse(words.iter().map(|w| w.as_bytes().to_vec()).collect())
    }

    #[test]
    fn errors_are_worded_as_redis_words_them() {
        assert_eq!(parse(&["FOO"]).unwrap_err(), "ERR unknown command 'foo'");
        assert_eq!(
            parse(&["get"]).unwrap_err(),
            "ERR wrong number of arguments for 'get' command"
        );
        assert_eq!(
            parse(&["set", "k", "v", "EX"]).unwrap_err(),
            "ERR syntax error"
        );
        assert_eq!(
            parse(&["set", "k", "v", "EX", "0"]).unwrap_err(),
            "ERR invalid expire time in 'set' command"
        );
        assert_eq!(
            parse(&["set", "k", "v", "px", "soon"]).unwrap_err(),
            "ERR value is not an integer or out of range"
        );
        assert_eq!(parse(&[]).unwrap_err(), "ERR empty command");
    }

    #[test]
    fn expiry_units() {
        let set = parse(&["SET", "k", "v", "px", "1500"]).unwrap();
        assert!(
            matches!(set, Command::Set { expire: Some(d), .. } if d == Duration::from_millis(1500))
        );
        assert_eq!(
            parse(&["unsubscribe"]).unwrap(),
            Command::Unsubscribe(vec![])
        );
    }
}
