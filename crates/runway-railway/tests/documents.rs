//! Every GraphQL document the client can send validates against Railway's real schema.

use runway_railway::ops;
use runway_testkit::fake_railway::validate_document;

#[test]
fn every_document_validates_against_the_real_schema() {
    assert!(ops::ALL.len() >= 17);
    for (name, doc) in ops::ALL {
        if let Err(errors) = validate_document(doc) {
            panic!("{name} does not validate: {errors:#?}");
        }
        assert!(
            doc.contains(&format!(" {name}")),
            "{name} is named in its document"
        );
    }
}

#[test]
fn the_list_names_each_document_once() {
    let mut names: Vec<_> = ops::ALL.iter().map(|(n, _)| *n).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), ops::ALL.len());
}

#[test]
fn validation_rejects_what_railway_rejects() {
    // deploymentRollback returns Boolean!: a selection set on it is an error (the docs' example is wrong).
    let e =
        validate_document("mutation { deploymentRollback(id: \"d\") { id status } }").unwrap_err();
    assert!(!e.is_empty());
    // Unknown field.
    assert!(validate_document("query { deployment(id: \"d\") { id nope } }").is_err());
    // Wrong argument type.
    assert!(
        validate_document(
            "query { deployments(input: {}, first: \"ten\") { edges { node { id } } } }"
        )
        .is_err()
    );
    // The docs' `successfulOnly` is not in the schema.
    assert!(
        validate_document(
            "query { deployments(input: {status: {successfulOnly: true}}) { edges { node { id } } } }"
        )
        .is_err()
    );
    // variables is a JSON scalar, not a connection.
    assert!(
        validate_document(
            "query { variables(projectId: \"p\", environmentId: \"e\") { edges { node { name } } } }"
        )
        .is_err()
    );
}
