//! The wasm entry point: hydrates the server-rendered portal in the browser.
#![forbid(unsafe_code)]
// Leptos views are deeply nested generic types; the operator pages exceed the default 128.
#![recursion_limit = "256"]

/// Called by the generated JS once the wasm module has loaded.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_lazy(app::App);
}
