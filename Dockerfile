# One image for every role: ROLES (api, collector, scheduler; all by default) picks what a container does.

# The web app, built with Node (its assets are served by the service at /).
FROM node:20-slim AS web
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web ./
RUN npm run build

FROM python:3.13-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY pyproject.toml README.md ./
COPY src ./src
COPY simulators ./simulators
RUN pip install --no-cache-dir .
COPY --from=web /web/dist ./web/dist
ENV API_HOST=0.0.0.0 API_PORT=8000 ENVIRONMENT=production DATA_DIR=/data WEB_DIST_DIR=/app/web/dist
EXPOSE 8000
CMD ["pocketquant", "serve"]
