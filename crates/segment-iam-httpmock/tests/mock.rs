//! The generated mocks drive the generated client: one typed exchange, no hand-written paths.

use httpmock::MockServer;
use segment_iam_api::types::{GetUser200Response, GetUserV1Output, UserId, UserV1};
use segment_iam_api::{Client, ClientIamUsersExt, PassThrough};
use segment_iam_httpmock::MockServerExt;

#[tokio::test]
async fn a_typed_get_user_mock_answers_the_generated_client() {
    let server = MockServer::start_async().await;
    let id: UserId = "sgJDWk3K21k6LE3tLU9nRK".parse().expect("valid id");
    let user = UserV1 {
        id: id.to_string(),
        name: "Ada".into(),
        email: "ada@example.com".into(),
        permissions: vec![],
    };
    let mock = server.get_user(|when, then| {
        when.user_id(&id);
        then.ok(&GetUser200Response {
            data: GetUserV1Output { user: user.clone() },
        });
    });

    let client = Client::with_exec(&server.base_url(), reqwest::Client::new(), PassThrough);
    let answer = client
        .get_user()
        .user_id(id.clone())
        .send()
        .await
        .expect("mocked answer");
    assert_eq!(answer.into_inner().data.user, user);
    mock.assert_async().await;
}
