//! The access file: a workspace's people, groups and permissions as YAML, checked whole before
//! anything is read from or sent to the service.
//!
//! Parsing refuses, with the line and column: YAML errors, unknown keys, duplicate keys
//! (emails compared case-insensitively), a version other than [`FORMAT_VERSION`], malformed
//! emails, resources and labels, and files over [`MAX_FILE_BYTES`]. Role names, and labels
//! neither live nor listed, are checked later, against the workspace, still with their line.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::ops::Deref;

use schemars::JsonSchema;
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use segment_iam::Label;
use segment_iam::email::key as email_key;

use crate::error::{Error, Result};

/// The only format version this crate reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// The largest file accepted: far above a 50,000-person workspace, far below what would strain
/// memory.
pub const MAX_FILE_BYTES: usize = 8 << 20;

/// A workspace's access as declared. See the crate docs for what each part means.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct AccessFile {
    /// The file format's version: 1.
    pub version: u32,
    /// The workspace id this file is for: `apply` refuses a token of another workspace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<String>,
    /// Delete what the file does not list (all off by default).
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Prune::is_off"
    )]
    pub prune: Prune,
    /// People of the workspace, by email: each is a user or is invited.
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Entries::is_empty"
    )]
    pub users: Entries<UserEntry>,
    /// User groups, by name.
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Entries::is_empty"
    )]
    pub groups: Entries<GroupEntry>,
    /// The workspace's labels (`key:value`): created when missing; with `prune.labels`, the
    /// unlisted ones no grant and no source uses are deleted.
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    #[schemars(with = "Vec<LabelText>")]
    pub labels: Vec<Text>,
}

/// What `apply` deletes when the file does not list it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Prune {
    /// Delete groups the file does not list.
    #[serde(default)]
    pub groups: bool,
    /// Delete users, and withdraw pending invites, the file does not list (under `users` or
    /// as a group member).
    #[serde(default)]
    pub users: bool,
    /// Delete labels the file does not list under `labels`, once no grant and no source
    /// uses them.
    #[serde(default)]
    pub labels: bool,
}

impl Prune {
    fn is_off(&self) -> bool {
        !self.groups && !self.users && !self.labels
    }
}

/// A person: their direct permissions, exactly (none when absent).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct UserEntry {
    /// The person's direct permissions (not those through groups).
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub permissions: Vec<PermissionEntry>,
}

/// A group: its members and its permissions.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct GroupEntry {
    /// Members by email: users or pending invitees; `{email: x@y.com, expires: 2027-03-31}`
    /// for a membership that ends.
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub members: Vec<Member>,
    /// `exact` (default) makes the members exactly these; `additive` never removes one.
    #[serde(default, skip_serializing_if = "MembersMode::is_exact")]
    pub members_mode: MembersMode,
    /// The group's permissions, exactly (none when absent).
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub permissions: Vec<PermissionEntry>,
}

/// How a group's member list is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum MembersMode {
    /// The members are exactly the listed ones.
    #[default]
    Exact,
    /// The listed members are added; nobody is removed.
    Additive,
}

impl MembersMode {
    fn is_exact(&self) -> bool {
        *self == MembersMode::Exact
    }
}

/// `key:` with nothing after it reads as empty (no entries, no members, no permissions, no
/// pruning), as a reader would expect, wherever the key stands in the file: the YAML parser
/// refuses a bare null where it expects a mapping or a list unless told it may be absent.
fn null_as_empty<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(
    deserializer: D,
) -> std::result::Result<T, D::Error> {
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// A role on resources.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct PermissionEntry {
    /// A role name (any case) or id.
    pub role: Text,
    /// `workspace` (the token's workspace) or `TYPE:ID` (`SOURCE:qQEH...`).
    pub resources: Vec<Text>,
    /// Labels (`key:value`) narrowing each resource: the role reaches only what carries all
    /// of them. None: the plain permission.
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    #[schemars(with = "Vec<LabelText>")]
    pub labels: Vec<Text>,
    /// When this permission ends: a date (to the end of that day UTC) or an RFC 3339 instant;
    /// afterwards it counts as absent and `apply` removes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<ExpiresText>")]
    pub expires: Option<Text>,
}

/// A date (`2027-03-31`: to the end of that day UTC) or an RFC 3339 instant
/// (`2027-03-31T18:00:00Z`).
#[derive(JsonSchema)]
#[allow(dead_code)]
struct ExpiresText(
    /// A date (`2027-03-31`: the entry lasts to the end of that day UTC) or an RFC 3339
    /// instant (`2027-03-31T18:00:00Z`, `2027-03-31T20:00:00+02:00`).
    #[schemars(regex(
        pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2}))?$"
    ))]
    String,
);

/// A group member: an email, and when the membership ends, if it does. Written as a plain
/// email, or as `{email: x@y.com, expires: 2027-03-31}`; it reads as its email ([`Deref`]),
/// which is what every phase compares.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Member {
    /// The member's email.
    pub email: Text,
    /// When the membership ends (see [`crate::expiry`]).
    pub expires: Option<Text>,
}

impl Member {
    /// A member with no expiry and no position in a file.
    pub fn new(email: impl Into<String>) -> Self {
        Member {
            email: Text::new(email),
            expires: None,
        }
    }

    /// This membership ending at `when` (a date or an RFC 3339 instant, checked when planned).
    pub fn expires(mut self, when: impl Into<String>) -> Self {
        self.expires = Some(Text::new(when));
        self
    }
}

impl Deref for Member {
    type Target = Text;

    fn deref(&self) -> &Text {
        &self.email
    }
}

impl From<Text> for Member {
    fn from(email: Text) -> Self {
        Member {
            email,
            expires: None,
        }
    }
}

impl Serialize for Member {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        match &self.expires {
            None => self.email.serialize(serializer),
            Some(expires) => {
                use serde::ser::SerializeMap;
                let mut map = serializer.serialize_map(Some(2))?;
                map.serialize_entry("email", &self.email)?;
                map.serialize_entry("expires", expires)?;
                map.end()
            }
        }
    }
}

/// The two ways a member is written, before positions are attached.
enum MemberForm {
    Plain(String),
    Dated(DatedMember),
}

/// `{email: x@y.com, expires: ...}`: each value keeps its own position.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DatedMember {
    email: Text,
    #[serde(default)]
    expires: Option<Text>,
}

impl<'de> Deserialize<'de> for MemberForm {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct FormVisitor;
        impl<'de> Visitor<'de> for FormVisitor {
            type Value = MemberForm;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an email, or {email: ..., expires: ...}")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<MemberForm, E> {
                Ok(MemberForm::Plain(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                map: A,
            ) -> std::result::Result<MemberForm, A::Error> {
                DatedMember::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(MemberForm::Dated)
            }
        }
        deserializer.deserialize_any(FormVisitor)
    }
}

impl<'de> Deserialize<'de> for Member {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let spanned = serde_saphyr::Spanned::<MemberForm>::deserialize(deserializer)?;
        Ok(match spanned.value {
            MemberForm::Plain(value) => Member::from(Text {
                value,
                line: spanned.referenced.line(),
                column: spanned.referenced.column(),
            }),
            MemberForm::Dated(dated) => Member {
                email: dated.email,
                expires: dated.expires,
            },
        })
    }
}

/// A group member: an email, or `{email: x@y.com, expires: 2027-03-31}`.
#[derive(JsonSchema)]
#[allow(dead_code)]
#[serde(untagged)]
enum MemberSchema {
    /// An email.
    Email(String),
    /// An email and when the membership ends.
    Dated(DatedMemberSchema),
}

/// A member whose membership ends: `{email: x@y.com, expires: 2027-03-31}`.
#[derive(JsonSchema)]
#[allow(dead_code)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "DatedMember")]
struct DatedMemberSchema {
    /// The member's email.
    email: String,
    /// When the membership ends: afterwards the member leaves the group (even an `additive`
    /// one).
    expires: Option<ExpiresText>,
}

impl JsonSchema for Member {
    fn schema_name() -> String {
        "Member".into()
    }

    fn json_schema(generator: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
        MemberSchema::json_schema(generator)
    }
}

/// A label as the file spells it, for the schema: `key:value`, each part a letter then
/// letters, digits and hyphens.
#[derive(JsonSchema)]
#[allow(dead_code)]
struct LabelText(
    #[schemars(regex(pattern = r"^[A-Za-z][A-Za-z0-9-]*:[A-Za-z][A-Za-z0-9-]*$"))] String,
);

impl PermissionEntry {
    /// A role (name or id) on resources (`workspace` or `TYPE:ID`), with no position in a
    /// file: `PermissionEntry::new("Source Admin", ["SOURCE:qQEH..."])`.
    pub fn new(
        role: impl Into<String>,
        resources: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        PermissionEntry {
            role: Text::new(role),
            resources: resources.into_iter().map(Text::new).collect(),
            labels: Vec::new(),
            expires: None,
        }
    }

    /// This permission narrowed by labels (`key:value`, checked when the file is parsed or
    /// planned), replacing any listed before.
    pub fn labels(mut self, labels: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.labels = labels.into_iter().map(Text::new).collect();
        self
    }

    /// This permission ending at `when` (a date or an RFC 3339 instant, checked when planned).
    pub fn expires(mut self, when: impl Into<String>) -> Self {
        self.expires = Some(Text::new(when));
        self
    }

    /// The labels narrowing it, parsed; the first malformed one refused at its line.
    pub fn parsed_labels(&self) -> Result<BTreeSet<Label>> {
        parse_labels(&self.labels)
    }
}

/// Labels as the file spells them, parsed; the first malformed one refused at its line.
pub(crate) fn parse_labels(labels: &[Text]) -> Result<BTreeSet<Label>> {
    labels.iter().map(parse_label).collect()
}

fn parse_label(text: &Text) -> Result<Label> {
    text.value
        .parse::<Label>()
        .map_err(|e| text.error(e.to_string()))
}

impl UserEntry {
    /// A person with no direct permissions.
    pub fn new() -> Self {
        Self::default()
    }

    /// This person with one more direct permission.
    pub fn permission(mut self, permission: PermissionEntry) -> Self {
        self.permissions.push(permission);
        self
    }
}

impl GroupEntry {
    /// A group with no members and no permissions, its members exactly as listed.
    pub fn new() -> Self {
        Self::default()
    }

    /// This group with these members (emails), replacing any listed before.
    pub fn members(mut self, emails: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.members = emails.into_iter().map(Member::new).collect();
        self
    }

    /// Lists one more member (an email) at the end.
    pub fn add_member(&mut self, email: impl Into<String>) {
        self.members.push(Member::new(email));
    }

    /// Lists one more member, possibly with an expiry, at the end.
    pub fn push_member(&mut self, member: Member) {
        self.members.push(member);
    }

    /// How the member list is applied.
    pub fn members_mode(mut self, mode: MembersMode) -> Self {
        self.members_mode = mode;
        self
    }

    /// This group with one more permission.
    pub fn permission(mut self, permission: PermissionEntry) -> Self {
        self.permissions.push(permission);
        self
    }
}

/// A string with where it stands in the file (line 0 when it was not read from one), so errors
/// found after parsing still point at their line.
#[derive(Debug, Clone, Eq)]
pub struct Text {
    /// The string.
    pub value: String,
    /// 1-based line in the file, 0 when unknown.
    pub line: u64,
    /// 1-based column in the file, 0 when unknown.
    pub column: u64,
}

impl Text {
    /// A string with no position.
    pub fn new(value: impl Into<String>) -> Self {
        Text {
            value: value.into(),
            line: 0,
            column: 0,
        }
    }

    /// A file error at this string's position.
    pub(crate) fn error(&self, message: impl Into<String>) -> Error {
        Error::File {
            line: self.line,
            column: self.column,
            message: message.into(),
        }
    }
}

impl PartialEq for Text {
    /// Equal when the strings are: where they stand does not matter.
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let spanned = serde_saphyr::Spanned::<String>::deserialize(deserializer)?;
        Ok(Text {
            value: spanned.value,
            line: spanned.referenced.line(),
            column: spanned.referenced.column(),
        })
    }
}

impl Serialize for Text {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.value)
    }
}

impl JsonSchema for Text {
    fn schema_name() -> String {
        String::schema_name()
    }

    fn json_schema(generator: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
        String::json_schema(generator)
    }

    fn is_referenceable() -> bool {
        false
    }
}

/// A mapping kept in file order, each key with its position (a map would lose both).
#[derive(Debug, Clone, PartialEq)]
pub struct Entries<V>(pub Vec<(Text, V)>);

impl<V> Default for Entries<V> {
    fn default() -> Self {
        Entries(Vec::new())
    }
}

impl<V> Entries<V> {
    /// No entries.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The entries in file order.
    pub fn iter(&self) -> impl Iterator<Item = (&Text, &V)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    /// How many entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Adds an entry at the end (even when `key` is already there: parsing such a file would
    /// refuse it; [`Entries::insert`] replaces instead).
    pub fn push(&mut self, key: impl Into<String>, value: V) {
        self.0.push((Text::new(key), value));
    }

    /// The entry of `key`, spelled as in the file.
    pub fn get(&self, key: &str) -> Option<&V> {
        self.0.iter().find(|(k, _)| k.value == key).map(|(_, v)| v)
    }

    /// The entry of `key`, spelled as in the file, to change in place.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        self.0
            .iter_mut()
            .find(|(k, _)| k.value == key)
            .map(|(_, v)| v)
    }

    /// Sets the entry of `key`: in its place when it is there (returning the old value, its
    /// position in the file kept), at the end otherwise.
    pub fn insert(&mut self, key: impl Into<String>, value: V) -> Option<V> {
        let key = key.into();
        match self.get_mut(&key) {
            Some(slot) => Some(std::mem::replace(slot, value)),
            None => {
                self.0.push((Text::new(key), value));
                None
            }
        }
    }

    /// Removes the entry of `key`, returning it.
    pub fn remove(&mut self, key: &str) -> Option<V> {
        let at = self.0.iter().position(|(k, _)| k.value == key)?;
        Some(self.0.remove(at).1)
    }
}

impl<'de, V: Deserialize<'de> + Default> Deserialize<'de> for Entries<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct EntriesVisitor<V>(std::marker::PhantomData<V>);
        impl<'de, V: Deserialize<'de> + Default> Visitor<'de> for EntriesVisitor<V> {
            type Value = Entries<V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_unit<E: serde::de::Error>(self) -> std::result::Result<Self::Value, E> {
                Ok(Entries::default())
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<Text>()? {
                    // `key:` with nothing after it is an entry with every default.
                    let value: Option<V> = map.next_value()?;
                    entries.push((key, value.unwrap_or_default()));
                }
                Ok(Entries(entries))
            }
        }
        deserializer.deserialize_map(EntriesVisitor(std::marker::PhantomData))
    }
}

impl<V: Serialize> Serialize for Entries<V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(k, v)| (&k.value, v)))
    }
}

impl<V: JsonSchema> JsonSchema for Entries<V> {
    fn schema_name() -> String {
        format!("Entries_{}", V::schema_name())
    }

    fn json_schema(generator: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
        HashMap::<String, V>::json_schema(generator)
    }

    fn is_referenceable() -> bool {
        false
    }
}

/// The JSON Schema of the file, for editors (`# yaml-language-server: $schema=...`).
pub fn schema() -> schemars::schema::RootSchema {
    schemars::schema_for!(AccessFile)
}

impl AccessFile {
    /// An empty file of the current version.
    pub fn new() -> Self {
        AccessFile {
            version: FORMAT_VERSION,
            ..AccessFile::default()
        }
    }

    /// Parses and checks a file's text. Every refusal is [`Error::File`] with a position.
    pub fn parse(text: &str) -> Result<AccessFile> {
        if text.len() > MAX_FILE_BYTES {
            return Err(Error::File {
                line: 0,
                column: 0,
                message: format!(
                    "the file is {} bytes, over the {MAX_FILE_BYTES}-byte limit",
                    text.len()
                ),
            });
        }
        let file: AccessFile = serde_saphyr::from_str(text).map_err(|e| {
            let (line, column) = e
                .location()
                .map(|l| (l.line(), l.column()))
                .unwrap_or((0, 0));
            Error::File {
                line,
                column,
                message: first_line(&e.to_string()),
            }
        })?;
        file.check()?;
        Ok(file)
    }

    /// The file as YAML, in its own order.
    pub fn to_yaml(&self) -> Result<String> {
        serde_saphyr::to_string(self).map_err(|e| Error::File {
            line: 0,
            column: 0,
            message: format!("cannot write the file: {e}"),
        })
    }

    /// What parsing checks beyond the YAML's shape.
    fn check(&self) -> Result<()> {
        if self.version != FORMAT_VERSION {
            return Err(Error::File {
                line: 1,
                column: 1,
                message: format!(
                    "version {} is not supported (this tool reads version {FORMAT_VERSION})",
                    self.version
                ),
            });
        }
        if let Some(id) = &self.workspace
            && id.trim().is_empty()
        {
            return Err(Error::File {
                line: 0,
                column: 0,
                message: "`workspace` must not be empty".into(),
            });
        }
        let mut people: HashMap<String, &Text> = HashMap::new();
        for (email, user) in self.users.iter() {
            check_email(email)?;
            if let Some(first) = people.insert(email_key(&email.value), email) {
                return Err(email.error(format!(
                    "{} is listed twice under `users` (also line {}; emails compare case-insensitively)",
                    email.value, first.line
                )));
            }
            check_permissions(&user.permissions)?;
        }
        let mut names: HashMap<&str, &Text> = HashMap::new();
        for (name, group) in self.groups.iter() {
            if name.value.trim().is_empty() || name.value.trim() != name.value {
                return Err(name.error(format!(
                    "group name {:?} is empty or has surrounding spaces",
                    name.value
                )));
            }
            if let Some(first) = names.insert(name.value.as_str(), name) {
                return Err(name.error(format!(
                    "group {:?} is listed twice (also line {})",
                    name.value, first.line
                )));
            }
            let mut members: HashMap<String, &Text> = HashMap::new();
            for member in &group.members {
                check_email(member)?;
                if let Some(first) = members.insert(email_key(&member.value), member) {
                    return Err(member.error(format!(
                        "{} is a member of {:?} twice (also line {})",
                        member.value, name.value, first.line
                    )));
                }
                if let Some(expires) = &member.expires {
                    parse_expiry(expires)?;
                }
            }
            check_permissions(&group.permissions)?;
        }
        let mut labels: HashMap<Label, &Text> = HashMap::new();
        for text in &self.labels {
            if let Some(first) = labels.insert(parse_label(text)?, text) {
                return Err(text.error(format!(
                    "label {} is listed twice under `labels` (also line {})",
                    text.value, first.line
                )));
            }
        }
        Ok(())
    }

    /// The labels listed under `labels`, parsed.
    pub fn listed_labels(&self) -> Result<BTreeSet<Label>> {
        parse_labels(&self.labels)
    }
}

fn check_email(email: &Text) -> Result<()> {
    segment_iam::email::check("email", &email.value).map_err(|e| email.error(e.to_string()))
}

fn check_permissions(permissions: &[PermissionEntry]) -> Result<()> {
    for permission in permissions {
        if permission.role.value.trim().is_empty() {
            return Err(permission.role.error("`role` must not be empty"));
        }
        if permission.resources.is_empty() {
            return Err(permission
                .role
                .error("a permission needs at least one resource (`workspace` or TYPE:ID)"));
        }
        for resource in &permission.resources {
            resource
                .value
                .parse::<segment_iam::Resource>()
                .map_err(|e| resource.error(e.to_string()))?;
        }
        parse_labels(&permission.labels)?;
        if let Some(expires) = &permission.expires {
            parse_expiry(expires)?;
        }
    }
    Ok(())
}

/// When an `expires:` ends its entry (see [`crate::expiry`]); anything but a date or an RFC
/// 3339 instant from 1970 on is refused at its line.
pub(crate) fn parse_expiry(text: &Text) -> Result<std::time::SystemTime> {
    let value = text.value.trim();
    crate::dates::end_of(value).ok_or_else(|| {
        text.error(format!(
            "`expires: {value}` is neither a date (2027-03-31: to the end of that day UTC) nor an RFC 3339 instant (2027-03-31T18:00:00Z) from 1970 on"
        ))
    })
}

/// The first line of a parser's message, without the position it repeats (ours is shown
/// once, by [`Error::File`]) and without its snippet.
fn first_line(message: &str) -> String {
    let line = message.lines().next().unwrap_or(message).trim();
    let line = line.strip_prefix("error: ").unwrap_or(line);
    match line.split_once(": ") {
        Some((at, rest)) if at.starts_with("line ") && at.contains(" column ") => rest.to_string(),
        _ => line.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"version: 1
workspace: 9aQ1Lj62S4bomZKLF4DPqW
prune: { groups: false, users: false }
users:
  ana@example.com:
    permissions:
      - role: Workspace Owner
        resources: [workspace]
  bo@example.com: {}
  cy@example.com:
groups:
  Analysts:
    members: [ana@example.com, bo@example.com]
    members_mode: exact
    permissions:
      - role: Source Read-only
        resources: [workspace, "SOURCE:qQEHquLrjRDN9j1ByrChyn"]
"#;

    fn refusal(text: &str) -> (u64, String) {
        match AccessFile::parse(text) {
            Err(Error::File { line, message, .. }) => (line, message),
            other => panic!("expected a file error, got {other:?}"),
        }
    }

    #[test]
    fn the_documented_example_parses_with_positions() {
        let file = AccessFile::parse(EXAMPLE).expect("the example parses");
        let users: Vec<_> = file
            .users
            .iter()
            .map(|(k, _)| (k.value.as_str(), k.line))
            .collect();
        assert_eq!(
            users,
            [
                ("ana@example.com", 5),
                ("bo@example.com", 9),
                ("cy@example.com", 10)
            ]
        );
        let (name, group) = file.groups.iter().next().expect("one group");
        assert_eq!((name.value.as_str(), name.line), ("Analysts", 12));
        assert_eq!(group.permissions[0].role.line, 16);
        assert_eq!(group.members.len(), 2);
        assert_eq!(
            file.users.0[0].1.permissions[0].resources[0].value,
            "workspace"
        );
    }

    #[test]
    fn a_written_file_reads_back_equal() {
        let file = AccessFile::parse(EXAMPLE).expect("the example parses");
        let text = file.to_yaml().expect("writes");
        assert_eq!(
            AccessFile::parse(&text).expect("reads back"),
            file,
            "{text}"
        );
    }

    fn parses(text: &str) -> AccessFile {
        AccessFile::parse(text).unwrap_or_else(|e| panic!("{text:?} should parse: {e}"))
    }

    #[test]
    fn an_empty_users_key_is_no_users_at_the_end_or_in_the_middle() {
        assert!(parses("version: 1\nusers:\n").users.is_empty());
        assert!(
            parses("version: 1\nusers:\ngroups:\n  G: {}\n")
                .users
                .is_empty()
        );
    }

    #[test]
    fn an_empty_groups_key_is_no_groups_at_the_end_or_in_the_middle() {
        let file = parses("version: 1\nusers:\n  a@x.io: {}\ngroups:\n");
        assert!(file.groups.is_empty());
        assert_eq!(file.users.0.len(), 1);
        assert!(
            parses("version: 1\ngroups:\nusers:\n  a@x.io:\n")
                .groups
                .is_empty()
        );
    }

    #[test]
    fn an_empty_members_key_is_no_members() {
        let file = parses("version: 1\ngroups:\n  G:\n    members:\n");
        assert!(file.groups.0[0].1.members.is_empty());
        let file = parses("version: 1\ngroups:\n  G:\n    members:\n    members_mode: additive\n");
        assert!(file.groups.0[0].1.members.is_empty());
        assert_eq!(file.groups.0[0].1.members_mode, MembersMode::Additive);
    }

    #[test]
    fn an_empty_permissions_key_is_no_permissions_for_users_and_groups() {
        let file = parses("version: 1\nusers:\n  a@x.io:\n    permissions:\n");
        assert!(file.users.0[0].1.permissions.is_empty());
        let file = parses("version: 1\ngroups:\n  G:\n    permissions:\n    members: [a@x.io]\n");
        assert!(file.groups.0[0].1.permissions.is_empty());
        assert_eq!(file.groups.0[0].1.members.len(), 1);
    }

    #[test]
    fn an_empty_prune_key_prunes_nothing() {
        assert_eq!(parses("version: 1\nprune:\n").prune, Prune::default());
    }

    #[test]
    fn a_file_of_empty_keys_is_the_empty_file() {
        assert_eq!(
            parses("version: 1\nprune:\nusers:\ngroups:\n"),
            AccessFile::new()
        );
    }

    #[test]
    fn a_file_edited_from_code_writes_and_reads_back_what_was_set() {
        let mut file = AccessFile::parse(EXAMPLE).expect("the example parses");
        let analysts = file.groups.get_mut("Analysts").expect("listed");
        analysts.add_member("cy@example.com");
        assert_eq!(analysts.members.len(), 3);
        let old = file.groups.insert(
            "Analysts",
            GroupEntry::new()
                .members(["ana@example.com"])
                .members_mode(MembersMode::Additive),
        );
        assert_eq!(old.map(|g| g.members.len()), Some(3));
        assert_eq!(file.groups.len(), 1, "replaced in place, not added");
        assert_eq!(file.groups.0[0].0.line, 12, "its position kept");
        assert!(
            file.groups
                .insert(
                    "Support",
                    GroupEntry::new()
                        .permission(PermissionEntry::new("Source Read-only", ["workspace"]))
                )
                .is_none()
        );
        file.users.insert(
            "dee@example.com",
            UserEntry::new().permission(PermissionEntry::new("Source Admin", ["SOURCE:s1"])),
        );
        assert!(file.users.remove("bo@example.com").is_some());
        assert!(file.users.remove("bo@example.com").is_none());
        assert!(file.users.get("BO@example.com").is_none());

        let again = AccessFile::parse(&file.to_yaml().expect("writes")).expect("reads back");
        assert_eq!(again, file);
        let support = again.groups.get("Support").expect("added");
        assert_eq!(support.permissions[0].resources[0].value, "workspace");
        assert_eq!(
            again.groups.get("Analysts").map(|g| g.members_mode),
            Some(MembersMode::Additive)
        );
        let users: Vec<&str> = again.users.iter().map(|(k, _)| k.value.as_str()).collect();
        assert_eq!(
            users,
            ["ana@example.com", "cy@example.com", "dee@example.com"]
        );
    }

    #[test]
    fn hostile_files_are_refused_with_their_line() {
        assert_eq!(
            refusal("version: 1\nusers:\n  ana@example.com:\n    perms: []\n").0,
            4
        );
        assert_eq!(
            refusal("version: 1\nusers:\n  a@x.io: {}\n  a@x.io: {}\n").0,
            4
        );
        let (line, message) = refusal("version: 1\nusers:\n  Ana@x.io: {}\n  ana@X.io: {}\n");
        assert_eq!(line, 4, "{message}");
        assert!(message.contains("twice"), "{message}");
        let (line, message) = refusal("version: 1\nusers:\n  not-an-email: {}\n");
        assert_eq!(line, 3);
        assert!(message.contains("not an email"), "{message}");
        assert_eq!(
            refusal("version: 2\n").1,
            "version 2 is not supported (this tool reads version 1)"
        );
        let (line, _) = refusal(
            "version: 1\ngroups:\n  G:\n    permissions:\n      - role: X\n        resources: [\"NOPE:1\"]\n",
        );
        assert_eq!(line, 6);
        assert!(refusal("version: 1\nusers: [\n").1.len() > 3);
        let big = format!("version: 1\n#{}\n", "x".repeat(MAX_FILE_BYTES));
        assert!(refusal(&big).1.contains("over the"));
    }

    const LABELLED: &str = "version: 1
prune: { labels: true }
labels: [environment:prod, region:emea]
groups:
  Prod admins:
    permissions:
      - role: Source Admin
        resources: [workspace]
        labels: [environment:prod, region:emea]
";

    #[test]
    fn labels_parse_on_permissions_and_at_the_top_with_positions() {
        let file = parses(LABELLED);
        assert!(file.prune.labels && !file.prune.groups && !file.prune.users);
        let listed: Vec<(String, u64)> = file
            .labels
            .iter()
            .map(|t| (t.value.clone(), t.line))
            .collect();
        assert_eq!(
            listed,
            [("environment:prod".into(), 3), ("region:emea".into(), 3)]
        );
        let permission = &file.groups.0[0].1.permissions[0];
        assert_eq!(permission.labels[1].line, 9);
        let parsed = permission.parsed_labels().expect("labels");
        assert_eq!(
            segment_iam::label::joined(&parsed),
            "environment:prod&region:emea"
        );
        assert_eq!(file.listed_labels().expect("labels").len(), 2);
        let again = parses(&file.to_yaml().expect("writes"));
        assert_eq!(again, file);
        assert!(file.to_yaml().expect("writes").contains("labels:"));
    }

    #[test]
    fn a_file_without_labels_writes_no_labels_keys() {
        let text = parses(EXAMPLE).to_yaml().expect("writes");
        assert!(!text.contains("labels"), "{text}");
        assert!(!parses(EXAMPLE).prune.labels);
    }

    #[test]
    fn empty_labels_keys_are_no_labels() {
        let file = parses(
            "version: 1\nlabels:\nusers:\n  a@x.io:\n    permissions:\n      - role: R\n        resources: [workspace]\n        labels:\n",
        );
        assert!(file.labels.is_empty());
        assert!(file.users.0[0].1.permissions[0].labels.is_empty());
        assert_eq!(parses("version: 1\nlabels:\n"), AccessFile::new());
    }

    #[test]
    fn malformed_and_repeated_labels_are_refused_at_their_line() {
        let (line, message) = refusal(
            "version: 1\ngroups:\n  G:\n    permissions:\n      - role: R\n        resources: [workspace]\n        labels:\n          - environment:prod\n          - region_emea\n",
        );
        assert_eq!(line, 9, "{message}");
        assert!(message.contains("region_emea"), "{message}");
        let (line, message) = refusal("version: 1\nlabels:\n  - environment:prod\n  - 1env:prod\n");
        assert_eq!(line, 4, "{message}");
        assert!(message.contains("not a letter"), "{message}");
        let (line, message) =
            refusal("version: 1\nlabels:\n  - environment:prod\n  - environment:prod\n");
        assert_eq!(line, 4);
        assert!(
            message.contains("listed twice under `labels` (also line 3)"),
            "{message}"
        );
        assert_eq!(
            refusal("version: 1\nprune: { label: true }\n").0,
            2,
            "an unknown prune key"
        );
    }

    #[test]
    fn the_schema_shows_the_label_keys() {
        let schema = serde_json::to_string(&schema()).expect("json");
        for key in [
            r#""labels":{"description":"The workspace's labels"#,
            r#""labels":{"description":"Labels (`key:value`) narrowing each resource"#,
            r#""labels":{"description":"Delete labels the file does not list"#,
            "^[A-Za-z][A-Za-z0-9-]*:[A-Za-z][A-Za-z0-9-]*$",
        ] {
            assert!(schema.contains(key), "{key} in {schema}");
        }
    }

    #[test]
    fn the_schema_shows_expiries_on_permissions_and_dated_members() {
        let schema = serde_json::to_string(&schema()).expect("json");
        for key in [
            r#""expires":{"description":"When this permission ends"#,
            r#""description":"A member whose membership ends"#,
            r#""anyOf":[{"description":"An email.","type":"string"}"#,
            "[0-9]{4}-[0-9]{2}-[0-9]{2}",
        ] {
            assert!(schema.contains(key), "{key} in {schema}");
        }
    }

    #[test]
    fn members_built_from_code_write_plain_or_dated() {
        let mut group = GroupEntry::new().members(["a@x.io"]);
        group.push_member(Member::new("b@x.io").expires("2027-03-31"));
        let mut file = AccessFile::new();
        file.groups.insert("G", group);
        let text = file.to_yaml().expect("writes");
        assert!(text.contains("- a@x.io"), "{text}");
        assert!(text.contains("email: b@x.io"), "{text}");
        assert_eq!(parses(&text), file);
        let entry = PermissionEntry::new("R", ["workspace"]).expires("2027-03-31T18:00:00Z");
        assert_eq!(
            entry.expires.map(|t| t.value).as_deref(),
            Some("2027-03-31T18:00:00Z")
        );
    }

    #[test]
    fn a_permission_built_from_code_carries_its_labels() {
        let entry =
            PermissionEntry::new("Source Admin", ["workspace"]).labels(["environment:prod"]);
        assert_eq!(entry.parsed_labels().expect("ok").len(), 1);
        let bad = PermissionEntry::new("Source Admin", ["workspace"]).labels(["nope"]);
        assert!(matches!(
            bad.parsed_labels(),
            Err(Error::File { line: 0, .. })
        ));
    }
}
