# One image for every service; the Deployment picks the service: python -m shared.runner <name>
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml ./
COPY shared ./shared
COPY services ./services
RUN pip install --no-cache-dir . && useradd --uid 10001 --no-create-home smartcity
USER 10001
CMD ["python", "-m", "shared.runner", "ideas"]
