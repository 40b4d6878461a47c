//! The language virt-doctor writes in: English, or Simplified Chinese.
//!
//! Chosen by `--lang`, else as gettext programs choose the language of
//! their messages: `LC_ALL`, then `LC_MESSAGES`, then `LANG` (read and
//! parsed by the `locale_config` crate). `C` and `POSIX` are English, and
//! so is any language virt-doctor has no words for. Rule texts come from
//! each rule's `[rule.zh-CN]` table, falling back to English field by
//! field; commands, XML, paths and codes are the same in every language.

use serde::Serialize;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize)]
pub enum Lang {
    #[default]
    #[serde(rename = "en")]
    En,
    #[serde(rename = "zh-CN")]
    ZhCn,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::ZhCn];

    /// The tag rule files and `--lang` use.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::ZhCn => "zh-CN",
        }
    }

    /// A language tag or locale name (`zh-CN`, `zh_CN.UTF-8`, `en`, `C`):
    /// the language it asks for, or None for one virt-doctor lacks.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let range = locale_config::LanguageRange::from_unix(tag)
            .or_else(|_| locale_config::LanguageRange::new(tag))
            .ok()?;
        let tag = range.as_ref().to_ascii_lowercase();
        let mut parts = tag.split('-');
        match parts.next() {
            // The invariant locale (`C`, `POSIX`) and English.
            Some("" | "en" | "c" | "posix") => Some(Lang::En),
            Some("zh") => {
                // Simplified Chinese: mainland China, Singapore, or the
                // Hans script; Traditional (TW, HK, MO, Hant) is not it.
                let rest: Vec<&str> = parts.collect();
                let traditional = rest
                    .iter()
                    .any(|p| matches!(*p, "tw" | "hk" | "mo" | "hant"));
                (!traditional).then_some(Lang::ZhCn)
            }
            _ => None,
        }
    }

    /// The language of messages from the environment, as gettext reads it;
    /// English when it names one virt-doctor lacks.
    pub fn from_env() -> Lang {
        let locale = locale_config::Locale::user_default();
        locale
            .tags_for("messages")
            .next()
            .and_then(|range| Lang::from_tag(range.as_ref()))
            .unwrap_or(Lang::En)
    }

    /// `english` or `chinese`, whichever this language is.
    pub fn pick<'a>(self, english: &'a str, chinese: &'a str) -> &'a str {
        match self {
            Lang::En => english,
            Lang::ZhCn => chinese,
        }
    }
}

impl std::str::FromStr for Lang {
    type Err = String;
    fn from_str(s: &str) -> Result<Lang, String> {
        Lang::from_tag(s).ok_or_else(|| format!("`{s}`: virt-doctor speaks en and zh-CN"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locale_names_and_tags() {
        for (tag, lang) in [
            ("zh_CN.UTF-8", Some(Lang::ZhCn)),
            ("zh-CN", Some(Lang::ZhCn)),
            ("zh_SG.UTF-8", Some(Lang::ZhCn)),
            ("zh-Hans", Some(Lang::ZhCn)),
            ("zh", Some(Lang::ZhCn)),
            ("zh_TW.UTF-8", None),
            ("zh-Hant-HK", None),
            ("en_US.UTF-8", Some(Lang::En)),
            ("C", Some(Lang::En)),
            ("C.UTF-8", Some(Lang::En)),
            ("POSIX", Some(Lang::En)),
            ("de_DE.UTF-8", None),
        ] {
            assert_eq!(Lang::from_tag(tag), lang, "{tag}");
        }
    }
}
