//! The success path of every operation.

use serde_json::json;

use crate::{Api, MEMBER, OWNER};
use segment_iam_emulator::Operation;

fn ws() -> serde_json::Value {
    json!([{"id": "9aQ1Lj62S4bomZKLF4DPqW", "type": "WORKSPACE"}])
}

#[tokio::test]
async fn get_user() {
    let api = Api::fixture().await;
    let r = api.get("/users/u1").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    let u = &r.json["data"]["user"];
    assert_eq!(u["id"], "u1");
    assert_eq!(u["name"], "Ada");
    assert_eq!(u["email"], "ada@example.com");
    assert_eq!(u["permissions"][0]["roleId"], OWNER);
    assert_eq!(u["permissions"][0]["roleName"], "Workspace Owner");
    assert_eq!(u["permissions"][0]["resources"][0]["type"], "WORKSPACE");
    assert!(r.json.get("errors").is_none());
    // Percent-encoded ids are decoded.
    assert_eq!(api.get("/users/%75%31").await.status, 200);
    let j = api.emu.journal();
    assert_eq!(j.len(), 2);
    assert_eq!(j[0].operation, Some(Operation::GetUser));
    assert_eq!(j[0].method, "GET");
    assert_eq!(j[0].path, "/users/u1");
    assert!(j[0].applied);
    assert_eq!(j[0].status, 200);
    let auth = j[0]
        .headers
        .iter()
        .find(|(k, _)| k == "authorization")
        .unwrap();
    assert_eq!(auth.1, "Bearer <redacted>");
    assert!(!format!("{j:?}").contains(&api.token));
}

#[tokio::test]
async fn list_users() {
    let api = Api::fixture().await;
    let r = api.get("/users?pagination.count=2").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let d = &r.json["data"];
    assert_eq!(d["users"].as_array().unwrap().len(), 2);
    assert_eq!(d["users"][0]["id"], "u1");
    assert_eq!(d["users"][1]["email"], "bob+qa@example.com");
    assert!(d["pagination"]["current"].is_string());
    assert!(d["pagination"]["next"].is_string());
    assert!(d["pagination"]["previous"].is_null());
    assert_eq!(d["pagination"]["totalEntries"], 3);
    // Default count 200 when absent.
    let r = api.get("/users").await;
    assert_eq!(r.json["data"]["users"].as_array().unwrap().len(), 3);
    assert!(r.json["data"]["pagination"]["next"].is_null());
    assert_eq!(r.json["data"]["users"][2]["name"], "");
}

#[tokio::test]
async fn list_invites() {
    let api = Api::fixture().await;
    let r = api.get("/invites?pagination.count=10").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["data"]["invites"], json!(["carol@example.com"]));
    assert_eq!(r.json["data"]["pagination"]["totalEntries"], 1);
}

#[tokio::test]
async fn list_user_groups_from_user() {
    let api = Api::fixture().await;
    let r = api.get("/users/u1/groups?pagination.count=10").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.json["data"]["groups"],
        json!([{"id": "g1", "name": "Admins"}])
    );
    let r = api.get("/users/u2/groups").await;
    assert_eq!(r.json["data"]["groups"], json!([]));
}

#[tokio::test]
async fn add_permissions_to_user() {
    let api = Api::fixture().await;
    let r = api
        .post(
            "/users/u2/permissions",
            json!({"permissions": [{"roleId": MEMBER, "resources": ws()}]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let p = &r.json["data"]["permissions"][0];
    assert_eq!(p["roleId"], MEMBER);
    assert_eq!(p["roleName"], "Workspace Member");
    assert_eq!(p["subjectId"], "u2");
    assert_eq!(p["subjectType"], "user");
    assert!(p["policyId"].as_str().unwrap().len() > 10);
    assert_eq!(p["resources"][0]["labels"], json!([]));
    let u = api.get("/users/u2").await;
    assert_eq!(
        u.json["data"]["user"]["permissions"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // Adding again attaches a second policy.
    api.post(
        "/users/u2/permissions",
        json!({"permissions": [{"roleId": OWNER, "resources": ws()}]}),
    )
    .await;
    assert_eq!(api.emu.user("u2").unwrap().permissions.len(), 2);
    let events: Vec<String> = api
        .emu
        .audit_events()
        .into_iter()
        .map(|e| e.event)
        .collect();
    assert!(events.contains(&"Policy Created".to_string()));
    assert!(events.contains(&"User Policy Updated".to_string()));
}

#[tokio::test]
async fn replace_permissions_for_user() {
    let api = Api::fixture().await;
    let labels = json!([{"key": "environment", "value": "prod", "description": "Production"}]);
    let r = api
        .put(
            "/users/u1/permissions",
            json!({"permissions": [{"roleId": MEMBER, "resources": [
                {"id": "src1", "type": "SOURCE", "labels": labels}]}]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let ps = r.json["data"]["permissions"].as_array().unwrap();
    assert_eq!(ps.len(), 1);
    assert_eq!(ps[0]["roleName"], "Workspace Member");
    assert_eq!(ps[0]["resources"][0]["labels"], labels);
    let u = api.emu.user("u1").unwrap();
    assert_eq!(u.permissions.len(), 1);
    assert_eq!(u.permissions[0].role_id, MEMBER);
    assert!(
        api.emu
            .audit_events()
            .iter()
            .any(|e| e.event == "Policy Deleted")
    );
    // Replace with nothing clears.
    let r = api
        .put("/users/u1/permissions", json!({"permissions": []}))
        .await;
    assert_eq!(r.json["data"]["permissions"], json!([]));
}

#[tokio::test]
async fn create_invites() {
    let api = Api::fixture().await;
    let r = api
        .post(
            "/invites",
            json!({"invites": [
                {"email": "dave+x@example.com", "permissions": [{"roleId": MEMBER, "resources": ws()}]},
                {"email": "eve@example.com"}]}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        r.json["data"]["emails"],
        json!(["dave+x@example.com", "eve@example.com"])
    );
    assert_eq!(
        api.emu.invite_emails(),
        vec!["carol@example.com", "dave+x@example.com", "eve@example.com"]
    );
    let ev = api.emu.audit_events();
    assert!(
        ev.iter()
            .any(|e| e.event == "Non-Segment User Invited to Workspace"
                && e.subject == "eve@example.com")
    );
    // Inviting again is a conflict.
    let r = api
        .post(
            "/invites",
            json!({"invites": [{"email": "EVE@example.com"}]}),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.text);
    let r = api
        .post(
            "/invites",
            json!({"invites": [{"email": "ada@example.com"}]}),
        )
        .await;
    assert_eq!(r.status, 409);
}

#[tokio::test]
async fn delete_invites() {
    let api = Api::fixture().await;
    let r = api.delete("/invites?emails.0=carol%40example.com").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json, json!({"data": {"status": "SUCCESS"}}));
    assert!(api.emu.invite_emails().is_empty());
    let g = api.emu.group("g1").unwrap();
    assert_eq!(g.member_count, 1);
    assert!(g.invites.is_empty());
    let ev: Vec<String> = api
        .emu
        .audit_events()
        .into_iter()
        .map(|e| e.event)
        .collect();
    assert!(ev.contains(&"Invite Deleted".to_string()));
    assert!(ev.contains(&"Group Memberships Deleted".to_string()));
    // Gone now.
    assert_eq!(
        api.delete("/invites?emails.0=carol%40example.com")
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn delete_users() {
    let api = Api::fixture().await;
    let r = api.delete("/users?userIds.0=u1&userIds.1=u2").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["data"]["status"], "SUCCESS");
    assert_eq!(api.emu.user_ids(), vec!["u3"]);
    assert_eq!(api.get("/users/u1").await.status, 404);
    let g = api.emu.group("g1").unwrap();
    assert_eq!(g.member_count, 1, "membership of u1 removed");
    assert!(
        api.emu
            .audit_events()
            .iter()
            .any(|e| e.event == "Group Memberships Deleted" && e.subject == "u1")
    );
    // All-or-nothing: one unknown id, nothing deleted.
    let r = api.delete("/users?userIds.0=u3&userIds.1=nope").await;
    assert_eq!(r.status, 404);
    assert_eq!(api.emu.user_ids(), vec!["u3"]);
}

#[tokio::test]
async fn list_user_groups() {
    let api = Api::fixture().await;
    let r = api.get("/groups?pagination.count=5").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let gs = r.json["data"]["userGroups"].as_array().unwrap();
    assert_eq!(gs.len(), 2);
    assert_eq!(gs[0]["id"], "g1");
    assert_eq!(gs[0]["memberCount"], 2);
    assert_eq!(gs[1]["memberCount"], 0);
}

#[tokio::test]
async fn create_get_update_delete_user_group() {
    let api = Api::fixture().await;
    let r = api.post("/groups", json!({"name": "Engineers"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let g = &r.json["data"]["userGroup"];
    assert_eq!(g["name"], "Engineers");
    assert_eq!(g["memberCount"], 0);
    let id = g["id"].as_str().unwrap().to_string();

    let r = api.get(&format!("/groups/{id}")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["data"]["userGroup"]["id"], id.as_str());

    let r = api
        .patch(&format!("/groups/{id}"), json!({"name": "Platform"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["data"]["userGroup"]["name"], "Platform");

    let r = api.delete(&format!("/groups/{id}")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["data"]["status"], "SUCCESS");
    assert_eq!(api.get(&format!("/groups/{id}")).await.status, 404);

    let ev: Vec<String> = api
        .emu
        .audit_events()
        .into_iter()
        .map(|e| e.event)
        .collect();
    for e in [
        "User Group Created",
        "User Group Updated",
        "User Group Deleted",
    ] {
        assert!(ev.contains(&e.to_string()), "{e}");
    }
    // Duplicate names conflict.
    assert_eq!(
        api.post("/groups", json!({"name": "Admins"})).await.status,
        409
    );
}

#[tokio::test]
async fn list_users_and_invites_from_user_group() {
    let api = Api::fixture().await;
    let r = api.get("/groups/g1/users?pagination.count=10").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.json["data"]["users"],
        json!([{"id": "u1", "name": "Ada", "email": "ada@example.com"}])
    );
    let r = api.get("/groups/g1/invites?pagination.count=10").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["data"]["emails"], json!(["carol@example.com"]));
    assert_eq!(r.json["data"]["pagination"]["totalEntries"], 1);
}

#[tokio::test]
async fn group_permissions() {
    let api = Api::fixture().await;
    let r = api
        .post(
            "/groups/g2/permissions",
            json!({"permissions": [{"roleId": OWNER, "resources": ws()}]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["data"]["permissions"][0]["subjectType"], "group");
    assert_eq!(r.json["data"]["permissions"][0]["subjectId"], "g2");
    let r = api
        .put(
            "/groups/g2/permissions",
            json!({"permissions": [{"roleId": MEMBER, "resources": ws()}]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["data"]["permissions"].as_array().unwrap().len(), 1);
    let g = api.get("/groups/g2").await;
    assert_eq!(
        g.json["data"]["userGroup"]["permissions"][0]["roleName"],
        "Workspace Member"
    );
    let ev: Vec<String> = api
        .emu
        .audit_events()
        .into_iter()
        .map(|e| e.event)
        .collect();
    assert!(ev.contains(&"User Group Policy Updated".to_string()));
    assert!(ev.contains(&"Policy Deleted".to_string()));
}

#[tokio::test]
async fn add_replace_remove_group_members() {
    let api = Api::fixture().await;
    // Add a user, an existing invitee and an unknown email (invited on the fly).
    let r = api
        .post(
            "/groups/g2/users",
            json!({"emails": ["bob+qa@example.com", "carol@example.com", "new@example.com"]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["data"]["userGroup"]["memberCount"], 3);
    assert!(
        api.emu
            .invite_emails()
            .contains(&"new@example.com".to_string())
    );
    // Adding again is a no-op.
    let r = api
        .post(
            "/groups/g2/users",
            json!({"emails": ["BOB+qa@example.com"]}),
        )
        .await;
    assert_eq!(r.json["data"]["userGroup"]["memberCount"], 3);

    // Replace the members of g1 (ada, carol) with bob only.
    let r = api
        .put("/group/g1/users", json!({"emails": ["bob+qa@example.com"]}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["data"]["userGroup"]["memberCount"], 1);
    let g1 = api.emu.group("g1").unwrap();
    assert_eq!(g1.users, vec!["u2"]);
    assert!(g1.invites.is_empty());
    assert!(api.emu.user("u1").unwrap().groups.is_empty());

    // Remove bob and carol from g2.
    let r = api
        .delete("/group/g2/users?emails.0=bob%2Bqa%40example.com&emails.1=carol%40example.com")
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["data"]["status"], "SUCCESS");
    let g2 = api.emu.group("g2").unwrap();
    assert_eq!(g2.member_count, 1);
    assert_eq!(g2.invites, vec!["new@example.com"]);
    let ev: Vec<String> = api
        .emu
        .audit_events()
        .into_iter()
        .map(|e| e.event)
        .collect();
    for e in [
        "Subjects Added to Group",
        "User Added To User Group",
        "Group Memberships Deleted",
        "User Removed From User Group",
    ] {
        assert!(ev.contains(&e.to_string()), "{e}");
    }
    // A non-member is a 404, nothing removed.
    let r = api
        .delete("/group/g2/users?emails.0=new%40example.com&emails.1=ada%40example.com")
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(api.emu.group("g2").unwrap().member_count, 1);
}

#[tokio::test]
async fn journal_counts_every_operation() {
    let api = Api::fixture().await;
    api.get("/users").await;
    api.post("/groups", json!({"name": "X"})).await;
    api.post("/groups", json!({"name": "X"})).await; // 409: not applied
    assert_eq!(api.emu.applied_count(Operation::CreateUserGroup), 1);
    assert_eq!(api.emu.journal_for(Operation::CreateUserGroup).len(), 2);
    let e = &api.emu.journal()[1];
    assert_eq!(e.body.as_deref(), Some(r#"{"name":"X"}"#));
    assert!(e.elapsed > std::time::Duration::ZERO);
    api.emu.clear_journal();
    assert!(api.emu.journal().is_empty());
}
