import "./styles.css";
import { startApp } from "./app/shell";

startApp(document.getElementById("app") as HTMLElement);
