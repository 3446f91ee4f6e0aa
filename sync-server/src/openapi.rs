//! The OpenAPI document, generated from the handlers' `#[utoipa::path]` annotations and the
//! request/response types, so it cannot drift from the code.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes::{self, accounts, sessions, sync};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "SelfOS sync API",
        description = "Stores only ciphertext: sealed vault entries, an Argon2id hash of the client-derived credential, the wrapped vault header and hashed session tokens. Errors are JSON `{\"error\": {\"code\", \"message\"}}`."
    ),
    paths(
        routes::healthz,
        routes::readyz,
        routes::metrics,
        routes::openapi,
        accounts::register,
        accounts::prelogin,
        accounts::change,
        accounts::delete,
        sessions::login,
        sessions::logout,
        sessions::list,
        sessions::revoke,
        sync::push,
        sync::pull,
    ),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
