"""The bench's URLconf: production's routes plus the floor endpoint.

The floor is the least any recorded scan must do, as plain Django: no DRF, no session, no
ORM — one indexed SELECT (a resident by public id, the unique index) and one INSERT, in a
transaction, answered with a small JSON body. It goes through the same middleware as every
path. ``bench/checkin_load.py`` creates its table (``bench_floor``) in the bench database."""

from django.db import connection, transaction
from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from config import urls as production

FLOOR_TABLE = (
    "CREATE TABLE IF NOT EXISTS bench_floor "
    "(id bigserial PRIMARY KEY, resident_id bigint NOT NULL, at timestamptz NOT NULL)"
)


@csrf_exempt
@require_POST
def floor(request):
    public_id = request.body.decode()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT id FROM healthcode_resident WHERE public_id = %s", [public_id])
        row = cursor.fetchone()
        if row is None:
            return JsonResponse({"ok": False}, status=400)
        cursor.execute(
            "INSERT INTO bench_floor (resident_id, at) VALUES (%s, now()) RETURNING id", [row[0]]
        )
        (scan_id,) = cursor.fetchone()
    return JsonResponse({"ok": True, "id": scan_id})


urlpatterns = [path("bench/floor", floor, name="bench-floor"), *production.urlpatterns]
handler400 = production.handler400
handler403 = production.handler403
handler404 = production.handler404
handler500 = production.handler500
