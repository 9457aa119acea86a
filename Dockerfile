# One image for every process; the command picks the service:
#   docker run inds uvicorn services.gateway.app:create_app --factory --host 0.0.0.0 --port 8000
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
RUN useradd --system --uid 10001 inds

COPY pyproject.toml README.md ./
COPY inds ./inds
COPY shared ./shared
COPY services ./services
COPY migrations ./migrations
RUN pip install -e . && chown -R inds /app

USER inds
EXPOSE 8000
CMD ["uvicorn", "services.gateway.app:create_app", "--factory", "--host", "0.0.0.0", "--port", "8000"]
