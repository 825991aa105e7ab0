use std::rc::Rc;

use shared::{FileKind, Options};

use super::*;
use crate::protocol::{EditRequest, RowFilter};

const USERS: &str = "schoolId,userId,userRole,userFirstName,userLastName,userEmail,userGrade\r
S1,U1,student,Ann,Lee,ann@x.org,05\r
S1,U2,pupil,\"Bo, Jr\",Kim,bo at x.org,Grade 5\r
S1,U3,student,=Cy,Park,cy@x.org,05\r
S1,U4,student,Di,Ro,di@x.org,05\r
";

fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| b as char).collect()
}

fn written(document: &Document, file: FileKind) -> Vec<u8> {
    let mut out = Vec::new();
    document.write(file, &latin1, &mut |piece| out.extend_from_slice(piece));
    out
}

fn document(users: &str) -> Document {
    Document::new(vec![Source::new(
        FileKind::Users,
        users.as_bytes().to_vec(),
        false,
    )])
}

/// The document's files checked as they are now.
fn check(document: &Document) -> Checked {
    let users = written(document, FileKind::Users);
    let validated = shared::validate(&users, None, Options::default());
    Checked::new(document, Rc::new(validated))
}

fn edit(document: &mut Document, request: EditRequest) -> usize {
    let checked = check(document);
    let change = document.resolve(FileKind::Users, &request, &checked);
    let size = change.size();
    document.apply(FileKind::Users, change);
    size
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn unedited_rows_are_written_byte_for_byte_and_edited_ones_for_a_person() {
    let mut doc = document(USERS);
    assert_eq!(written(&doc, FileKind::Users), USERS.as_bytes());
    let set = |row, column, value: &str| EditRequest::SetCell {
        row,
        column,
        value: value.to_string(),
    };
    assert_eq!(edit(&mut doc, set(3, 3, "=Cy2")), 1);
    assert_eq!(
        edit(&mut doc, set(3, 3, "=Cy2")),
        0,
        "the same value changes nothing"
    );
    let out = String::from_utf8(written(&doc, FileKind::Users)).unwrap();
    let lines: Vec<&str> = out.split("\r\n").collect();
    assert_eq!(lines[2], "S1,U2,pupil,\"Bo, Jr\",Kim,bo at x.org,Grade 5");
    assert_eq!(lines[3], "S1,U3,student,'=Cy2,Park,cy@x.org,05");
    assert_eq!(doc.value(FileKind::Users, 3, 3), "=Cy2");
    // Undo, redo.
    assert!(doc.undo().is_some());
    assert_eq!(written(&doc, FileKind::Users), USERS.as_bytes());
    assert!(doc.redo().is_some());
    assert!(String::from_utf8(written(&doc, FileKind::Users))
        .unwrap()
        .contains("'=Cy2"));
    doc.discard();
    assert_eq!(written(&doc, FileKind::Users), USERS.as_bytes());
    assert_eq!((doc.undo_steps(), doc.redo_steps()), (0, 0));
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn suggested_fixes_for_one_row_or_all_and_the_counts_fall() {
    let mut doc = document(USERS);
    let before = check(&doc).validated.report.stats.errors;
    assert_eq!(
        edit(
            &mut doc,
            EditRequest::FixAll {
                column: 2,
                code: "invalid-role".into()
            }
        ),
        1
    );
    assert_eq!(doc.value(FileKind::Users, 2, 2), "student");
    assert_eq!(
        edit(
            &mut doc,
            EditRequest::Fix {
                row: 2,
                column: 5,
                code: "invalid-email".into()
            }
        ),
        1
    );
    assert_eq!(doc.value(FileKind::Users, 2, 5), "bo@x.org");
    let after = check(&doc).validated.report.stats.errors;
    assert_eq!(after, before - 2);
    // The view of rows with errors, and a row's marks.
    let checked = check(&doc);
    let view = View::new(&doc, &checked, FileKind::Users, RowFilter::Errors);
    assert_eq!(view.rows, vec![2, 3]);
    let rows = doc.grid_rows(&view, &checked, 0, 10);
    assert_eq!(rows[0].number, 3);
    assert!(rows[0].edited);
    assert_eq!(rows[0].cells[3], "Bo, Jr");
    let grade = rows[0]
        .marks
        .iter()
        .find(|m| m.code == "invalid-grade")
        .unwrap();
    assert_eq!((grade.column, grade.fix.as_deref()), (Some(6), Some("05")));
    let state = doc.grid_state(&view, &checked, None);
    assert!(state.auto_check);
    assert_eq!(state.view_len, 2);
    assert!(state
        .fixable
        .iter()
        .any(|f| f.code == "invalid-grade" && f.count == 1));
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn bulk_fixes_deletions_and_header_fixes() {
    let mut doc = document(USERS);
    let replace = EditRequest::ReplaceAll {
        column: 6,
        find: "Grade ".into(),
        replace: "".into(),
        whole_cell: false,
    };
    assert_eq!(edit(&mut doc, replace), 1);
    assert_eq!(doc.value(FileKind::Users, 2, 6), "5");
    let fill = EditRequest::Fill {
        column: 6,
        value: "06".into(),
        rows: vec![1, 4],
    };
    assert_eq!(edit(&mut doc, fill), 2);
    // Row 4 deleted: rows below move up, and findings land on the right row.
    assert_eq!(
        edit(&mut doc, EditRequest::DeleteRows { rows: vec![3, 3] }),
        1
    );
    assert_eq!(doc.row_number(FileKind::Users, 4), 4);
    let out = String::from_utf8(written(&doc, FileKind::Users)).unwrap();
    assert!(!out.contains("U3"));
    let checked = check(&doc);
    let view = View::new(&doc, &checked, FileKind::Users, RowFilter::Errors);
    assert_eq!(view.rows, vec![2]);
    let view = View::new(&doc, &checked, FileKind::Users, RowFilter::All);
    assert_eq!(view.rows, vec![1, 2, 4]);

    // Header: rename and remove, then every row is written anew.
    let renamed =
        "schoolId,userId,usrRole,userFirstName,userLastName,userEmail,userGrade,shoeSize\n\
                   S1,00123,student,Ann,Lee,ann@x.org,05,9\n";
    let mut doc = document(renamed);
    assert!(
        !check(&doc)
            .validated
            .report
            .stats
            .users_file
            .header_accepted
    );
    let rename = EditRequest::RenameColumn {
        from: "usrRole".into(),
        to: "userRole".into(),
    };
    assert_eq!(edit(&mut doc, rename), 1);
    let remove = EditRequest::RemoveColumn {
        name: "shoeSize".into(),
    };
    assert_eq!(edit(&mut doc, remove), 1);
    let out = String::from_utf8(written(&doc, FileKind::Users)).unwrap();
    assert_eq!(
        out,
        "schoolId,userId,userRole,userFirstName,userLastName,userEmail,userGrade\n\
         S1,00123,student,Ann,Lee,ann@x.org,05\n"
    );
    assert!(check(&doc).validated.report.valid);
    let zeros = EditRequest::LeadingZeros {
        column: 1,
        width: 7,
    };
    assert_eq!(edit(&mut doc, zeros), 1);
    assert_eq!(doc.value(FileKind::Users, 1, 1), "0000123");
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn a_file_not_in_utf8_is_written_as_utf8_with_a_bom() {
    let mut bytes =
        b"schoolId,userId,userRole,userFirstName,userLastName,userEmail,userGrade\n".to_vec();
    bytes.extend_from_slice(b"S1,U1,student,Ren\xE9e,Lee,renee@x.org,05\n");
    let doc = Document::new(vec![Source::new(FileKind::Users, bytes, false)]);
    let out = written(&doc, FileKind::Users);
    assert!(out.starts_with(BOM));
    assert!(String::from_utf8(out).unwrap().contains("Renée"));
}
