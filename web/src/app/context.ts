/** What every page gets: the API client, the live socket, navigation. */

import type { Api } from "../api/client";
import type { PageName } from "../core/route";
import type { ReconnectingSocket } from "../live/socket";

export interface AppContext {
  readonly api: Api;
  readonly socket: ReconnectingSocket;
  navigate(page: PageName, params?: Readonly<Record<string, string>>): void;
}

export interface PageView {
  readonly element: HTMLElement;
  dispose(): void;
}

export type PageFactory = (context: AppContext, params: Readonly<Record<string, string>>) => PageView;
