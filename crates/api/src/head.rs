//! HEAD is answered wherever GET is (RFC 9110 9.3.2): as the GET, with its status and
//! headers. The connection's codec noted the request was HEAD when it read it, and sends the
//! answer's headers (Content-Length of the body included) without the body.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::Error;

pub async fn as_get(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    next.call(req).await
}
