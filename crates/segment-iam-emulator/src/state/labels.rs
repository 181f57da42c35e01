//! Which labels the workspace has and where they are used: on sources and narrowing the
//! permissions of users, groups and pending invites. One place answers "is it known" and "is
//! it in use", for the handlers and for fixtures alike.

use super::store::State;
use super::values::Label;

/// Where a label is used: how many sources carry it and how many permissions it narrows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct LabelUse {
    pub sources: usize,
    pub permissions: usize,
}

impl LabelUse {
    pub fn is_unused(self) -> bool {
        self.sources == 0 && self.permissions == 0
    }
}

impl std::fmt::Display for LabelUse {
    /// `2 sources and 1 permission`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let plural = |n: usize, one: &str| {
            if n == 1 {
                format!("1 {one}")
            } else {
                format!("{n} {one}s")
            }
        };
        write!(
            f,
            "{} and {}",
            plural(self.sources, "source"),
            plural(self.permissions, "permission")
        )
    }
}

impl State {
    /// Whether the workspace has the label `key:value`.
    pub fn has_label(&self, key: &str, value: &str) -> bool {
        self.labels.iter().any(|l| l.is(key, value))
    }

    /// The first of `labels` the workspace does not have.
    pub fn unknown_label<'a>(&self, labels: &'a [Label]) -> Option<&'a Label> {
        labels.iter().find(|l| !self.has_label(&l.key, &l.value))
    }

    /// Every permission's labels (users', groups' and pending invites'), one slice a
    /// permission resource or an invite permission: a permission counts once however many of
    /// its resources carry a label.
    fn permission_labels(&self) -> impl Iterator<Item = Vec<&Label>> {
        let policies = self
            .users
            .values()
            .flat_map(|u| &u.policies)
            .chain(self.groups.values().flat_map(|g| &g.policies))
            .map(|p| p.resources.iter().flat_map(|r| &r.labels).collect());
        let invites = self
            .invites
            .values()
            .flat_map(|i| &i.permissions)
            .map(|p| p.labels.iter().collect());
        policies.chain(invites)
    }

    /// Where `key:value` is used.
    pub fn label_use(&self, key: &str, value: &str) -> LabelUse {
        LabelUse {
            sources: self
                .sources
                .values()
                .filter(|s| s.labels.iter().any(|l| l.is(key, value)))
                .count(),
            permissions: self
                .permission_labels()
                .filter(|labels| labels.iter().any(|l| l.is(key, value)))
                .count(),
        }
    }

    /// The first label used (on a source or narrowing a permission) that the workspace does
    /// not have, with where it is used: a fixture must not leave one behind.
    pub fn dangling_label(&self) -> Option<(String, &'static str)> {
        let on_source = self
            .sources
            .values()
            .flat_map(|s| &s.labels)
            .find(|l| !self.has_label(&l.key, &l.value))
            .map(|l| (l.to_string(), "a source"));
        on_source.or_else(|| {
            self.permission_labels()
                .flatten()
                .find(|l| !self.has_label(&l.key, &l.value))
                .map(|l| (l.to_string(), "a permission"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_use_reads_like_the_refusal_says_it() {
        let one = LabelUse {
            sources: 2,
            permissions: 1,
        };
        assert_eq!(one.to_string(), "2 sources and 1 permission");
        assert!(!one.is_unused());
        assert!(LabelUse::default().is_unused());
        assert_eq!(
            LabelUse {
                sources: 1,
                permissions: 0
            }
            .to_string(),
            "1 source and 0 permissions"
        );
    }

    #[test]
    fn a_new_workspace_has_the_two_environment_labels() {
        let st = State::new(0);
        assert!(st.has_label("environment", "dev"));
        assert!(st.has_label("environment", "prod"));
        assert!(!st.has_label("environment", "staging"));
        assert_eq!(st.labels.len(), 2);
        assert!(st.dangling_label().is_none());
    }

    #[test]
    fn label_parts_are_checked_as_documented() {
        for good in ["environment", "prod", "emea-2", "A"] {
            assert_eq!(Label::part_problem(good), None, "{good}");
        }
        for bad in ["", "1a", "-a", "a_b", "a b", "a:b", "é"] {
            assert!(Label::part_problem(bad).is_some(), "{bad:?}");
        }
    }
}
