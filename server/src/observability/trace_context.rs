//! W3C Trace Context (`traceparent`): the trace a call belongs to, taken from the caller when
//! it sent a valid header, started otherwise.
use rand::RngCore;

/// A trace id and the id of the span that is the parent of the next one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceContext {
    pub trace_id: [u8; 16],
    pub span_id: [u8; 8],
    pub sampled: bool,
}

impl TraceContext {
    /// A new trace, sampled.
    pub fn start() -> Self {
        let mut rng = rand::thread_rng();
        let mut trace_id = [0u8; 16];
        let mut span_id = [0u8; 8];
        while trace_id == [0; 16] {
            rng.fill_bytes(&mut trace_id);
        }
        while span_id == [0; 8] {
            rng.fill_bytes(&mut span_id);
        }
        Self { trace_id, span_id, sampled: true }
    }

    /// The trace id as 32 lowercase hex digits.
    pub fn trace_id_hex(&self) -> String {
        hex(&self.trace_id)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
