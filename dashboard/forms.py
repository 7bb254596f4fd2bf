"""Filter forms of the history and fault lists (GET, no state change).

Device choices are the household's own devices, so an id from another household is not a
valid choice: it is ignored (with a message on the form), never looked up elsewhere.
"""

from __future__ import annotations

from django import forms

from devices.history import RunResult
from devices.models import Device, Vendor

LEVELS = [("", "Any level"), ("1", "Info"), ("2", "Warning"), ("3", "Critical")]


class DeviceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} (removed)" if obj.gone_at else obj.name


class _FilterForm(forms.Form):
    device = DeviceChoiceField(queryset=Device.objects.none(), required=False, empty_label="All")
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    with_stations = False  # RTK stations have no runs, but may report faults

    def __init__(self, data, *, household):
        super().__init__(data)
        devices = Device.objects.for_household(household)
        if not self.with_stations:
            devices = devices.exclude(kind="station")
        self.fields["device"].queryset = devices

    def filters(self) -> dict:
        """The valid filters; an invalid field is dropped (and reported by the form)."""
        self.is_valid()
        return {
            name: self.cleaned_data[name]
            for name in self.fields
            if name in self.cleaned_data and self.cleaned_data[name] not in (None, "")
        }

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
            cleaned.pop("date_to", None)
        return cleaned


class HistoryFilterForm(_FilterForm):
    field_order = ["device", "vendor", "result", "date_from", "date_to"]
    vendor = forms.ChoiceField(choices=[("", "All"), *Vendor.choices], required=False)
    result = forms.ChoiceField(choices=[("", "Any"), *RunResult.choices], required=False)


class FaultFilterForm(_FilterForm):
    with_stations = True
    field_order = ["device", "code", "level", "date_from", "date_to"]
    code = forms.CharField(required=False, max_length=32, label="Code")
    level = forms.TypedChoiceField(
        choices=LEVELS, required=False, coerce=int, empty_value=None, label="Level"
    )
