"""Two batches with the same sample, uploaded at the same instant by one lab: each through the
API on its own database connection, both past their read of existing samples before either
inserts. One lands; the other is told to retry (409), not a server error, and no sample is
stored twice."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from nucleic import services
from nucleic.models import ResultBatch, Sample
from tests.factories import lab_token, resident_id

URL = "/api/v1/nucleic/results"


def batch(name: str) -> dict:
    return {
        "records": [
            {
                "barcode": "RACE-0001",
                "id_type": "resident_id",
                "id_number": resident_id(seq=7, birth="19900101"),
                "name": name,
                "sampled_at": "2022-06-01 08:30",
                "reported_at": "2022-06-01 18:00",
                "result": "negative",
            }
        ]
    }


@pytest.mark.django_db(transaction=True)
def test_a_concurrent_duplicate_barcode_is_a_conflict_not_a_crash(monkeypatch, settings):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks; SQLite serialises whole-database writes")
    # Admission lets one upload run at a time in a process (config/admission.py); the race is
    # between two web processes, each serving one: here two threads of one, so two slots.
    settings.ADMISSION_UPLOAD_LIMIT = 2
    _token, key = lab_token()
    # Hold each upload after it has looked for existing samples (found none, so locked none)
    # and before it inserts: both transactions are open at once, and both insert the barcode.
    both_read = threading.Barrier(2, timeout=30)
    insert = services.insert_samples

    def insert_when_both_have_read(records, **where):
        both_read.wait()
        insert(records, **where)

    monkeypatch.setattr(services, "insert_samples", insert_when_both_have_read)
    responses = []

    def upload(name):
        lab = APIClient(raise_request_exception=False)  # a crash is a 500 here, not a raise
        lab.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        try:
            responses.append(lab.post(URL, batch(name), format="json"))
        finally:
            connection.close()

    threads = [threading.Thread(target=upload, args=(name,)) for name in ("张三", "张叁")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)

    assert sorted(r.status_code for r in responses) == [200, 409], [r.content for r in responses]
    won = next(r for r in responses if r.status_code == 200).json()
    lost = next(r for r in responses if r.status_code == 409).json()
    assert won["created"] == 1
    assert lost["code"] == "conflict" and "请稍后重试本批次" in lost["detail"]
    # One row, the winner's; the loser's batch left nothing behind.
    sample = Sample.objects.get()
    assert sample.barcode == "RACE-0001" and sample.batch_id == won["id"]
    assert list(ResultBatch.objects.values_list("pk", flat=True)) == [won["id"]]
