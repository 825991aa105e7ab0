//! The errors report: original columns, then the finding, one line per
//! problem; BOM, CRLF, formula-safe; the same whatever the chunking.

use shared::errors_csv::{errors_csv, ErrorsCsvWriter};
use shared::validator::validate;
use shared::{FileKind, Options};

const FILE: &str = "\
schoolId,userId,userRole,userFirstName,userLastName,userEmail,userGrade
S1,A1,administrator,Al,Ng,al@x.org,
S1,U1,student,=Bo,Kim,bo at x.org,05

S1,A2,administrator,\"Ng, Jr.\",Lee,al@x.org,
";

#[test]
fn exact_contents() {
    let validated = validate(FILE.as_bytes(), None, Options::default());
    let report = errors_csv(FileKind::Users, &validated.report.findings, FILE.as_bytes());
    let text = String::from_utf8(report).unwrap();
    let expected = "\u{FEFF}schoolId,userId,userRole,userFirstName,userLastName,userEmail,userGrade,rowNumber,severity,column,code,message,howToFix,suggestedFix\r\n\
S1,A1,administrator,Al,Ng,al@x.org,,2,error,userEmail,duplicate-email,This email is also used by another userId (row 5).,\"Give each user their own email, or use one userId if they are the same person.\",\r\n\
S1,U1,student,'=Bo,Kim,bo at x.org,05,3,error,userFirstName,invalid-name,\"userFirstName starts with '=', which spreadsheets read as a formula.\",\"Give a name of 1 to 100 characters without control characters that does not start with =, +, - or @.\",Bo\r\n\
S1,U1,student,'=Bo,Kim,bo at x.org,05,3,error,userEmail,invalid-email,userEmail is not a valid email address.,\"Give one address like name@school.org, at most 254 characters.\",bo@x.org\r\n\
,,,,,,,4,warning,,blank-row,The row is blank and was skipped.,Delete blank rows.,\r\n\
S1,A2,administrator,\"Ng, Jr.\",Lee,al@x.org,,5,error,userEmail,duplicate-email,This email is also used by another userId (row 2).,\"Give each user their own email, or use one userId if they are the same person.\",\r\n";
    assert_eq!(text, expected);
}

#[test]
fn header_problems_come_first_without_rows() {
    let file = "schoolId,usrId\nS1,U1\n";
    let validated = validate(file.as_bytes(), None, Options::default());
    let text = String::from_utf8(errors_csv(
        FileKind::Users,
        &validated.report.findings,
        file.as_bytes(),
    ))
    .unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "\u{FEFF}schoolId,usrId,rowNumber,severity,column,code,message,howToFix,suggestedFix"
    );
    assert!(lines[1].starts_with(",,,error,usrId,unknown-header,The column usrId is not part of this file. Did you mean userId?"), "{}", lines[1]);
    assert!(
        lines[1].ends_with(",userId"),
        "the rename as the suggested fix: {}",
        lines[1]
    );
    assert_eq!(lines.len(), 1 + validated.report.findings.len());
}

#[test]
fn chunking_gives_the_same_report() {
    let validated = validate(FILE.as_bytes(), None, Options::default());
    let whole = errors_csv(FileKind::Users, &validated.report.findings, FILE.as_bytes());
    for chunk in 1..20 {
        let mut writer = ErrorsCsvWriter::new(FileKind::Users, &validated.report.findings);
        let mut out = Vec::new();
        for piece in FILE.as_bytes().chunks(chunk) {
            writer.push(piece);
            out.extend(writer.take_output());
        }
        out.extend(writer.finish());
        assert_eq!(out, whole, "chunk {chunk}");
    }
}
