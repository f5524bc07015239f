/**
 * The login page, shown whenever the API answers 401 and renewing the token cannot cure it. The tokens it
 * obtains are kept by the `Api` object in memory only; after signing in the app returns to the page that
 * needed it.
 */

import type { AppContext, PageView } from "../app/context";
import { ApiError } from "../api/client";
import { parseRoute } from "../core/route";
import { h } from "../ui/dom";

export function loginPage(context: AppContext, params: Readonly<Record<string, string>>): PageView {
  const username = h("input", { attrs: { name: "username", autocomplete: "username", required: "", "aria-label": "Username" } });
  const password = h("input", { attrs: { name: "password", type: "password", autocomplete: "current-password", required: "", "aria-label": "Password" } });
  const message = h("p", { class: "login-message", attrs: { role: "alert" } });
  const submit = h("button", { class: "primary", text: "Sign in", attrs: { type: "submit" } });
  const form = h("form", { class: "login-form" },
    h("h2", { text: "Sign in" }),
    h("label", {}, "Username", username),
    h("label", {}, "Password", password),
    submit,
    message);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    message.textContent = "";
    try {
      await context.api.logIn(username.value.trim(), password.value);
      password.value = "";
      const next = parseRoute(params.next ?? "");
      context.navigate(next.page === "login" ? "chart" : next.page, next.params);
    } catch (error) {
      message.textContent = loginFailure(error);
    } finally {
      submit.disabled = false;
    }
  });
  return { element: h("section", { class: "page login-page" }, form), dispose: () => undefined };
}

function loginFailure(error: unknown): string {
  if (error instanceof ApiError && error.status === 409) return "Authentication is off on this service: no sign-in needed.";
  if (error instanceof ApiError && error.status === 401) return "Sign-in failed: wrong username or password.";
  if (error instanceof ApiError && error.status === 422) return "Sign-in failed: give a username (3 characters or more) and a password.";
  return `Sign-in failed: ${(error as Error).message}`;
}
