/**
 * The login page, shown whenever the API answers 401. The token it obtains is kept by the `Api` object in
 * memory only; after signing in the app returns to the page that needed it.
 */

import type { AppContext, PageView } from "../app/context";
import { login } from "../api/endpoints";
import { parseRoute } from "../core/route";
import { h } from "../ui/dom";

export function loginPage(context: AppContext, params: Readonly<Record<string, string>>): PageView {
  const username = h("input", { attrs: { name: "username", autocomplete: "username", required: "", "aria-label": "Username" } });
  const password = h("input", { attrs: { name: "password", type: "password", autocomplete: "current-password", required: "", "aria-label": "Password" } });
  const message = h("p", { class: "login-message" });
  const form = h("form", { class: "login-form" },
    h("h2", { text: "Sign in" }),
    h("label", {}, "Username", username),
    h("label", {}, "Password", password),
    h("button", { class: "primary", text: "Sign in", attrs: { type: "submit" } }),
    message);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const { body } = await login(context.api, username.value, password.value);
      context.api.signIn(body.access_token);
      password.value = "";
      const next = parseRoute(params.next ?? "");
      context.navigate(next.page === "login" ? "chart" : next.page, next.params);
    } catch (error) {
      message.textContent = `Sign-in failed: ${(error as Error).message}`;
    }
  });
  return { element: h("section", { class: "page login-page" }, form), dispose: () => undefined };
}
