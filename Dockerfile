# The nvr service image: API, workers and the CLI share it.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /srv/nvr

COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY workers ./workers
COPY geo ./geo
COPY alerts ./alerts
COPY simulator ./simulator
COPY tools ./tools
COPY cli ./cli
COPY migrations ./migrations
RUN pip install --no-cache-dir .

RUN useradd --system --home /srv/nvr nvr
USER nvr
EXPOSE 8000
CMD ["nvr", "api", "--host", "0.0.0.0", "--port", "8000"]
