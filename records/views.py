from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from proxy_scan.selectors import family_binding_for, family_members_of
from proxy_scan.services import family_code_viewed
from records.selectors import CHECKIN_DAYS, record_of


@never_cache
@login_required
@require_GET
def record_page(request):
    """我的记录: my own record, or with ``?member=`` a bound family member's (their record is
    a lookup of them by me, recorded as when I open their code). Only a member without a
    log-in of their own: where a person went and who looked at them is theirs to see, and a
    holder who bound a registered adult by name and number shows their code, no more."""
    own = getattr(request.user, "resident", None)
    if own is None:
        return render(request, "healthcode/no_resident.html", status=404)
    key = request.GET.get("member", "")
    resident = own
    if key:
        binding = family_binding_for(holder=own, binding_id=key)
        if binding is None:  # another holder's, ended, or never: as if it did not exist
            raise Http404
        if binding.member.has_login:  # an adult with their own account keeps their record
            return render(request, "records/own_account.html", {"binding": binding}, status=403)
        family_code_viewed(binding=binding)
        resident = binding.member
    context = {
        "record": record_of(resident=resident, now=timezone.now()),
        "member_key": key,
        "members": [b for b in family_members_of(holder=own) if not b.member.has_login],
        "checkin_days": CHECKIN_DAYS,
    }
    return render(request, "records/record.html", context)
