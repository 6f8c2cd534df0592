//! Fuzz the Cloud66 response decoders: the response/pagination envelope, the error envelope, and the objects.
#![no_main]

use libfuzzer_sys::fuzz_target;
use runway_cloud66::wire::{
    self, AsyncAction, EnvVar, RedeployResponse, Server, Stack, StackDeployment, StackService,
};
use runway_cloud66::{action_status, deployment_status};

fuzz_target!(|data: &[u8]| {
    let _ = wire::decode_error(503, None, data).kind();
    let _ = wire::decode_envelope::<Vec<Stack>>(data);
    let _ = wire::decode_envelope::<Stack>(data);
    let _ = wire::decode_envelope::<Vec<Server>>(data);
    let _ = wire::decode_envelope::<Vec<EnvVar>>(data);
    let _ = wire::decode_envelope::<Vec<StackService>>(data);
    if let Ok((deps, page)) = wire::decode_envelope::<Vec<StackDeployment>>(data) {
        for d in &deps {
            let _ = deployment_status(d);
        }
        let _ = page.and_then(|p| p.next_page());
    }
    if let Ok((a, _)) = wire::decode_envelope::<AsyncAction>(data) {
        let _ = action_status(&a);
    }
    let _ = wire::decode_plain::<RedeployResponse>(data, "redeploy");
});
