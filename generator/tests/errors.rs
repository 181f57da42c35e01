//! Every bad input the generator knows of gives a clear, typed error (never a panic).

use segment_iam_generator::{Document, GeneratorError, generate};

/// A minimal valid document with one operation; `{extra}` is spliced into `paths`.
fn doc(paths: &str, schemas: &str) -> String {
    format!(
        r#"openapi: 3.0.3
info: {{title: t, version: "1"}}
paths:
{paths}
components:
  schemas:
    Thing:
      type: object
      properties:
        id: {{type: string}}
{schemas}
"#
    )
}

const GOOD_OP: &str = r#"  /things:
    get:
      operationId: list_things
      tags: [Things]
      responses:
        '200':
          description: OK
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Thing'}
"#;

fn check(text: &str) -> Result<(), GeneratorError> {
    Document::from_yaml(text, "test.yaml")?.check().map(|_| ())
}

#[test]
fn a_good_document_passes_and_generates() {
    let document = Document::from_yaml(&doc(GOOD_OP, ""), "test.yaml").expect("parses");
    let report = document.check().expect("checks");
    assert_eq!(report.operations.len(), 1);
    let files = generate(&document).expect("generates");
    assert!(files[0].contents.contains("fn list_things"));
}

#[test]
fn missing_file() {
    let err = Document::load("/nonexistent/segment-iam.yaml").expect_err("no such file");
    assert!(matches!(err, GeneratorError::Read { .. }));
    assert!(
        err.to_string()
            .starts_with("cannot read OpenAPI document /nonexistent/segment-iam.yaml:"),
        "{err}"
    );
}

#[test]
fn yaml_error_names_the_line() {
    let text = "openapi: 3.0.3\ninfo:\n  title: t\n  version: [unclosed\npaths: {}\n";
    let err = Document::from_yaml(text, "broken.yaml").expect_err("bad YAML");
    let GeneratorError::Parse { line, .. } = &err else {
        panic!("expected Parse, got {err:?}");
    };
    assert!(line.is_some());
    assert!(
        err.to_string()
            .starts_with("broken.yaml: invalid OpenAPI document at line"),
        "{err}"
    );
}

#[test]
fn json_error_names_the_line() {
    let err = Document::from_json("{\n  \"openapi\": \"3.0.3\",\n  oops\n}", "x.json")
        .expect_err("bad JSON");
    assert!(
        err.to_string()
            .starts_with("x.json: invalid OpenAPI document at line 3"),
        "{err}"
    );
}

#[test]
fn dangling_ref() {
    let op = GOOD_OP.replace("schemas/Thing", "schemas/Nothing");
    let err = check(&doc(&op, "")).expect_err("dangling");
    assert_eq!(
        err.to_string(),
        "dangling $ref \"#/components/schemas/Nothing\" at \
         /paths/~1things/get/responses/200/content/application~1json/schema: no such component in the document"
    );
}

#[test]
fn external_ref() {
    let op = GOOD_OP.replace("'#/components/schemas/Thing'", "'other.yaml#/Thing'");
    let err = check(&doc(&op, "")).expect_err("external");
    assert!(matches!(err, GeneratorError::ExternalRef { .. }), "{err:?}");
    assert!(err.to_string().contains("only local references"), "{err}");
}

#[test]
fn duplicate_operation_id() {
    let second = GOOD_OP.replace("/things:", "/others:");
    let err = check(&doc(&format!("{GOOD_OP}{second}"), "")).expect_err("duplicate");
    assert_eq!(
        err.to_string(),
        "duplicate operationId \"list_things\": used by GET /things and GET /others"
    );
}

#[test]
fn missing_operation_id() {
    let op = GOOD_OP.replace("      operationId: list_things\n", "");
    let err = check(&doc(&op, "")).expect_err("no id");
    assert_eq!(err.to_string(), "operation GET /things has no operationId");
}

#[test]
fn missing_tag() {
    let op = GOOD_OP.replace("      tags: [Things]\n", "");
    let err = check(&doc(&op, "")).expect_err("no tag");
    assert_eq!(err.to_string(), "operation \"list_things\" has no tag");
}

#[test]
fn path_item_ref_is_an_error_not_a_panic() {
    let op = "  /things:\n    $ref: '#/components/schemas/Thing'\n";
    let err = check(&doc(op, "")).expect_err("path ref");
    assert_eq!(
        err.to_string(),
        "path \"/things\" is a $ref; path items must be written inline"
    );
}

#[test]
fn open_enum_must_be_a_string_enum() {
    let schemas = "    Kind:\n      type: integer\n      x-open-enum: true\n";
    let err = check(&doc(GOOD_OP, schemas)).expect_err("bad open enum");
    assert_eq!(
        err.to_string(),
        "schema \"Kind\" has x-open-enum but is not a string schema with enum values"
    );
}

#[test]
fn array_query_params_are_found() {
    let op = format!(
        "{GOOD_OP}    delete:\n      operationId: delete_things\n      tags: [Things]\n      parameters:\n        - name: ids\n          in: query\n          required: true\n          schema: {{type: array, items: {{type: string}}}}\n        - name: scalar\n          in: query\n          schema: {{type: string}}\n      responses:\n        '200': {{description: OK}}\n"
    );
    let report = Document::from_yaml(&doc(&op, ""), "t.yaml")
        .expect("parses")
        .check()
        .expect("checks");
    let found: Vec<(&str, &str)> = report
        .array_query_params()
        .map(|(op, p)| (op, p.name.as_str()))
        .collect();
    assert_eq!(found, [("delete_things", "ids")]);
}
