//! virt-doctor's own words in each language: report headings, labels,
//! severities, categories, counts. Rule texts live in the rule files;
//! these are the words around them. One table per language, so a new
//! language is one more table, and a missing word is a compile error.

use crate::findings::Severity;
use crate::lang::Lang;

pub struct Words {
    pub fix_first: &'static str,
    pub fix: &'static str,
    pub evidence: &'static str,
    pub why: &'static str,
    pub data_problems: &'static str,
    pub suppressed: &'static str,
    pub rule_errors: &'static str,
    pub reason: &'static str,
    pub note: &'static str,
    /// `rules show`: section headings.
    pub what_it_does: &'static str,
    pub why_it_matters: &'static str,
    pub when_to_ignore: &'static str,
    pub example: &'static str,
    pub use_instead: &'static str,
    pub example_log: &'static str,
    pub how_it_decides: &'static str,
    pub fires_when: &'static str,
    pub matches: &'static str,
    pub except_matching: &'static str,
    pub reported_from: &'static str,
    pub lines_read: &'static str,
    pub in_a_plan: &'static str,
    pub references: &'static str,
    pub defined_at: &'static str,
    pub error: &'static str,
}

const EN: Words = Words {
    fix_first: "Fix first",
    fix: "fix:",
    evidence: "evidence:",
    why: "why:",
    data_problems: "data problems (the analysis used what could be read):",
    suppressed: "suppressed:",
    rule_errors: "rule errors (these rules could not be evaluated):",
    reason: "reason",
    note: "note",
    what_it_does: "What it does",
    why_it_matters: "Why it matters",
    when_to_ignore: "When to ignore it",
    example: "Example",
    use_instead: "Use instead",
    example_log: "Example log lines",
    how_it_decides: "How it decides",
    fires_when: "fires when",
    matches: "matches",
    except_matching: "except lines matching",
    reported_from: "reported from",
    lines_read: "lines read",
    in_a_plan: "in a plan",
    references: "References",
    defined_at: "defined at",
    error: "error",
};

const ZH_CN: Words = Words {
    fix_first: "优先处理",
    fix: "修复：",
    evidence: "证据：",
    why: "原因：",
    data_problems: "数据问题（分析使用了能读取的部分）：",
    suppressed: "已抑制：",
    rule_errors: "规则错误（以下规则无法求值）：",
    reason: "原因",
    note: "注意",
    what_it_does: "检查内容",
    why_it_matters: "为什么重要",
    when_to_ignore: "何时可以忽略",
    example: "示例",
    use_instead: "改为",
    example_log: "示例日志",
    how_it_decides: "判定方式",
    fires_when: "触发条件",
    matches: "匹配",
    except_matching: "排除匹配以下内容的行",
    reported_from: "报告阈值",
    lines_read: "读取的行",
    in_a_plan: "修复计划中的步骤",
    references: "参考资料",
    defined_at: "定义于",
    error: "错误",
};

pub fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::En => &EN,
        Lang::ZhCn => &ZH_CN,
    }
}

/// `critical`, `警告`.
pub fn severity(s: Severity, lang: Lang) -> &'static str {
    match lang {
        Lang::En => s.as_str(),
        Lang::ZhCn => match s {
            Severity::Critical => "严重",
            Severity::Warning => "警告",
            Severity::Info => "提示",
        },
    }
}

/// A category as a heading: `CPU`, `Memory`, `内存`.
pub fn category(category: &str, lang: Lang) -> String {
    match (lang, category) {
        (_, "cpu" | "numa") => category.to_uppercase(),
        (Lang::ZhCn, "host") => "主机".into(),
        (Lang::ZhCn, "memory") => "内存".into(),
        (Lang::ZhCn, "disk") => "磁盘".into(),
        (Lang::ZhCn, "network") => "网络".into(),
        (Lang::ZhCn, "snapshot") => "快照".into(),
        _ => {
            let mut c = category.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        }
    }
}

/// `2 warnings`, `1 info`, `2 个警告`.
pub fn count(n: usize, s: Severity, lang: Lang) -> String {
    match (lang, s) {
        (Lang::En, Severity::Warning) => format!("{n} warning{}", if n == 1 { "" } else { "s" }),
        (Lang::En, _) => format!("{n} {}", s.as_str()),
        (Lang::ZhCn, _) => format!("{n} 个{}", severity(s, lang)),
    }
}

/// `(+3 more)`, `（另 3 项）`.
pub fn more(n: usize, lang: Lang) -> String {
    match lang {
        Lang::En => format!("(+{n} more)"),
        Lang::ZhCn => format!("（另 {n} 项）"),
    }
}

/// `… and 4 more below`.
pub fn more_below(n: usize, lang: Lang) -> String {
    match lang {
        Lang::En => format!("… and {n} more below"),
        Lang::ZhCn => format!("…… 下方还有 {n} 项"),
    }
}

/// What a scope's rule is checked over, for `rules show`.
pub fn applies_to(scope: &str, lang: Lang) -> String {
    match lang {
        Lang::En => match scope {
            "host" => "checked once per host".to_owned(),
            "fleet" => "checked per group of hosts, in fleet runs".to_owned(),
            scope => format!("checked per {}", scope.replace('_', " ")),
        },
        Lang::ZhCn => {
            let per = match scope {
                "host" => return "每台主机检查一次".to_owned(),
                "fleet" => return "在多主机分析中按主机组逐个检查".to_owned(),
                "domain" => "虚拟机",
                "disk" => "磁盘",
                "interface" => "网卡",
                "numa_node" => "NUMA 节点",
                "block_device" => "块设备",
                "hugepage_pool" => "大页池",
                "net_device" => "网络接口",
                other => other,
            };
            format!("按{per}逐个检查")
        }
    }
}
