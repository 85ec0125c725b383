FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app

COPY pyproject.toml README.md ./
RUN pip install --no-cache-dir .

COPY . .
# collectstatic needs settings to load; the keys are build-time placeholders, never served.
RUN DEBUG=0 ALLOWED_HOSTS=localhost \
    SECRET_KEY=build-time-placeholder-only-used-by-collectstatic-0123456789abcdef \
    HEALTHCODE_ASSERTION_KEY=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \
    python manage.py collectstatic --noinput \
    && useradd --system --home /app app && mkdir -p /var/lib/celery && chown app /var/lib/celery
USER app
EXPOSE 8000
# gunicorn.conf.py: bind, workers, and an access log of paths without query strings.
CMD ["gunicorn", "config.wsgi:application", "--config", "gunicorn.conf.py"]
