//! The header pass: the first non-blank record → the column layout, or every
//! header problem at once.

use crate::codes::IssueCode;
use crate::dictionary::{ColumnSpec, Field, FileKind, Presence, CLASS_GROUP};
use crate::reader::Record;
use crate::report::Finding;

/// The header as read: which spec each position holds.
#[derive(Debug, Clone)]
pub struct Layout {
    /// One entry per header cell: the column it is.
    pub columns: Vec<&'static ColumnSpec>,
}

impl Layout {
    /// Position of a column, if the file has it.
    pub fn position(&self, field: Field) -> Option<usize> {
        self.columns.iter().position(|c| c.field == field)
    }
}

/// What the header said: the layout, or the reasons the file is refused.
#[derive(Debug, Clone)]
pub struct HeaderVerdict {
    /// The header cells as written (trimmed).
    pub(crate) names: Vec<String>,
    pub(crate) layout: Option<Layout>,
    /// Every header problem; none when the header is accepted.
    pub findings: Vec<Finding>,
}

impl HeaderVerdict {
    /// The file's rows are read (the header has no problem).
    pub fn accepted(&self) -> bool {
        self.layout.is_some()
    }
}

/// Checks a header record.
pub fn check_header(file: FileKind, record: &Record<'_>) -> HeaderVerdict {
    // A BOM can survive inside the first header when a file was saved twice.
    let names: Vec<String> = record
        .fields()
        .map(|f| f.trim().trim_start_matches('\u{FEFF}').trim().to_string())
        .collect();
    let mut verdict = HeaderVerdict {
        names,
        layout: None,
        findings: Vec::new(),
    };
    if let Some(separator) = other_delimiter(&verdict.names) {
        verdict
            .findings
            .push(Finding::new(IssueCode::WrongDelimiter, file).with_detail(separator));
        return verdict;
    }

    let finding =
        |code: IssueCode, column: &str| Finding::new(code, file).in_column(column.to_string());
    let mut columns = Vec::with_capacity(verdict.names.len());
    // Columns named, exactly or in the wrong case: they are not "missing".
    let mut named: Vec<&'static str> = Vec::new();
    for (index, name) in verdict.names.iter().enumerate() {
        if name.is_empty() {
            verdict.findings.push(
                Finding::new(IssueCode::BlankHeader, file).with_detail(format!("{}", index + 1)),
            );
            continue;
        }
        // The column, and whether the name is exactly its header.
        let known = file.column(name).map(|spec| (spec, true)).or_else(|| {
            file.columns()
                .iter()
                .find(|c| c.name.eq_ignore_ascii_case(name))
                .map(|spec| (spec, false))
        });
        if let Some((spec, exact)) = known {
            if named.contains(&spec.name) {
                verdict
                    .findings
                    .push(finding(IssueCode::DuplicateHeader, name));
            } else if exact {
                named.push(spec.name);
                columns.push(spec);
            } else {
                named.push(spec.name);
                verdict
                    .findings
                    .push(finding(IssueCode::HeaderWrongCase, name).with_detail(spec.name));
            }
            continue;
        }
        let suggestion = suggest(file, name)
            .map(|s| format!(" Did you mean {s}?"))
            .unwrap_or_default();
        verdict
            .findings
            .push(finding(IssueCode::UnknownHeader, name).with_detail(suggestion));
    }

    for spec in file.columns() {
        if spec.presence == Presence::Required && !named.contains(&spec.name) {
            verdict
                .findings
                .push(finding(IssueCode::MissingHeader, spec.name));
        }
    }
    if file == FileKind::Users {
        check_class_group(file, &named, &mut verdict.findings);
    }
    if verdict.findings.is_empty() {
        verdict.layout = Some(Layout { columns });
    }
    verdict
}

/// A header that is one cell holding `;` or tabs is a file with another delimiter.
fn other_delimiter(names: &[String]) -> Option<&'static str> {
    let [only] = names else { return None };
    if only.contains(';') {
        Some("semicolons")
    } else if only.contains('\t') {
        Some("tabs")
    } else {
        None
    }
}

fn check_class_group(file: FileKind, named: &[&'static str], findings: &mut Vec<Finding>) {
    let spec_of = |field: Field| file.columns().iter().find(|c| c.field == field);
    let present: Vec<&str> = CLASS_GROUP
        .iter()
        .filter_map(|f| spec_of(*f))
        .filter(|spec| named.contains(&spec.name))
        .map(|spec| spec.name)
        .collect();
    if present.is_empty() {
        return;
    }
    for spec in file.columns() {
        if spec.presence == Presence::Conditional && !named.contains(&spec.name) {
            findings.push(
                Finding::new(IssueCode::MissingConditionalHeader, file)
                    .in_column(spec.name)
                    .with_detail(present.join(", ")),
            );
        }
    }
}

/// The known header closest to `name`, if it is a near miss.
pub fn suggest(file: FileKind, name: &str) -> Option<&'static str> {
    let lowered = name.to_lowercase();
    file.columns()
        .iter()
        .map(|c| (edit_distance(&lowered, &c.name.to_lowercase()), c.name))
        .filter(|(distance, known)| *distance <= (known.len() / 4).clamp(1, 3))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, known)| known)
}

/// Levenshtein distance over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        current[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::RecordReader;

    fn verdict(file: FileKind, header: &str) -> HeaderVerdict {
        let mut reader = RecordReader::new();
        let mut out = None;
        let mut on_record = |r: Record<'_>| {
            if out.is_none() {
                out = Some(check_header(file, &r));
            }
        };
        reader.feed(header.as_bytes(), &mut on_record);
        reader.finish(&mut on_record).unwrap();
        out.unwrap()
    }

    fn codes(file: FileKind, header: &str) -> Vec<(String, Option<String>)> {
        verdict(file, header)
            .findings
            .iter()
            .map(|f| {
                (
                    f.code.as_str().to_string(),
                    f.column.as_deref().map(String::from),
                )
            })
            .collect()
    }

    const FULL: &str = "schoolId,userId,userRole,userFirstName,userLastName,userEmail,userGrade";

    #[test]
    fn table() {
        use FileKind::{Demographics as D, Users as U};
        // (file, header, expected [(code, column)])
        type Expected<'a> = &'a [(&'a str, Option<&'a str>)];
        let cases: &[(FileKind, &str, Expected)] = &[
            (U, FULL, &[]),
            (U, "userGrade,userEmail,userLastName,userFirstName,userRole,userId,schoolId", &[]),
            (U, "schoolId,userId,userRole,userFirstName,userLastName,userEmail", &[("missing-header", Some("userGrade"))]),
            (U, "schoolid,userId,userRole,userFirstName,userLastName,userEmail,userGrade", &[("header-wrong-case", Some("schoolid"))]),
            (U, "schoolId,userId,userId,userRole,userFirstName,userLastName,userEmail,userGrade", &[("duplicate-header", Some("userId"))]),
            (U, "schoolId,,userId,userRole,userFirstName,userLastName,userEmail,userGrade", &[("blank-header", None)]),
            (U, "schoolId,userID,usrRole,userFirstName,userLastName,userEmail,userGrade,shoeSize", &[
                ("header-wrong-case", Some("userID")),
                ("unknown-header", Some("usrRole")),
                ("unknown-header", Some("shoeSize")),
                ("missing-header", Some("userRole")),
            ]),
            (U, "schoolId,userId,userRole,userFirstName,userLastName,userEmail,userGrade,className", &[
                ("missing-conditional-header", Some("classId")),
                ("missing-conditional-header", Some("classGrade")),
            ]),
            (U, "schoolId,userId,userRole,userFirstName,userLastName,userEmail,userGrade,classId,className,classGrade,isPrimaryTeacher", &[]),
            (U, "schoolId;userId;userRole", &[("wrong-delimiter", None)]),
            (U, "schoolId\tuserId\tuserRole", &[("wrong-delimiter", None)]),
            (D, "userId,sex,homeLanguage", &[]),
            (D, "sex", &[("missing-header", Some("userId"))]),
            (D, "userId,gender", &[("unknown-header", Some("gender"))]),
        ];
        for (file, header, expected) in cases {
            let expected: Vec<(String, Option<String>)> = expected
                .iter()
                .map(|(c, col)| (c.to_string(), col.map(String::from)))
                .collect();
            assert_eq!(codes(*file, header), expected, "{header}");
        }
    }

    #[test]
    fn suggestions_and_bom() {
        let v = verdict(FileKind::Users, &format!("{FULL},usrRole"));
        assert_eq!(
            v.findings[0].message(),
            "The column usrRole is not part of this file. Did you mean userRole?"
        );
        assert_eq!(suggest(FileKind::Users, "shoeSize"), None);
        assert_eq!(suggest(FileKind::Users, "user_email"), Some("userEmail"));
        let v = verdict(FileKind::Users, &format!("\u{FEFF}{FULL}"));
        assert!(v.accepted(), "{:?}", v.findings);
    }
}
