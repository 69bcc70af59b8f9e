from typing import Any

from django import forms
from django.contrib import admin
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import HttpRequest

from desideliver.catalog.models import Category, Product, StockAdjustment
from desideliver.catalog.stock import adjust_stock, locked_stock
from desideliver.media.images import InvalidImage, reencode
from desideliver.users.models import User


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ("name",)}


class StockAdjustmentFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        """New adjustments may not take the stock below 0; the row lock taken here is held until
        the admin's transaction commits, so no sale can slip between this check and the update."""
        super().clean()
        change = sum(
            form.cleaned_data.get("change") or 0
            for form in self.forms
            if form.instance.pk is None and form.has_changed() and not form.errors
        )
        stock = locked_stock(self.instance.pk) if self.instance.pk else 0
        if stock + change < 0:
            raise forms.ValidationError(f"Stock is {stock}; these changes ({change:+d}) would leave {stock + change}.")


class StockAdjustmentInline(admin.TabularInline):
    """Stock moves only by adjustments: each one relative (±n), with a reason, never edited later."""

    model = StockAdjustment
    formset = StockAdjustmentFormSet
    fields = ["change", "reason", "stock_after", "created_by", "created_at"]
    readonly_fields = ["stock_after", "created_by", "created_at"]
    extra = 1
    can_delete = False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # recorded adjustments are history: shown, never edited


class ProductForm(forms.ModelForm):
    def clean_image(self) -> Any:
        """A new upload is re-encoded (JPEG, PNG or WebP; metadata dropped) under a random name."""
        upload = self.cleaned_data.get("image")
        if not isinstance(upload, UploadedFile):  # unchanged, cleared or none
            return upload
        try:
            image = reencode(upload)
        except InvalidImage as error:
            raise forms.ValidationError(str(error), code=error.code) from None
        return ContentFile(image.content, name=image.file_name)


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    form = ProductForm
    list_display = ["name", "category", "price", "stock", "is_active", "updated_at"]
    list_filter = ["is_active", "category"]
    list_editable = ["price", "is_active"]
    search_fields = ["name", "description"]
    list_select_related = ["category"]
    readonly_fields = ["stock"]
    inlines = [StockAdjustmentInline]

    def save_model(self, request: HttpRequest, obj: Product, form: forms.ModelForm, change: bool) -> None:
        """Never write `stock` back: it is the number loaded with the page, and sales move it since.

        A replaced or cleared image's file is deleted once the change is committed.
        """
        if not change:
            obj.save()
            return
        old_image = Product.objects.filter(pk=obj.pk).values_list("image", flat=True).first()
        fields = [field.name for field in obj._meta.concrete_fields if not field.primary_key and field.name != "stock"]
        obj.save(update_fields=fields)
        if old_image and old_image != obj.image.name:
            transaction.on_commit(lambda: obj.image.storage.delete(old_image))

    def save_formset(self, request: HttpRequest, form: forms.ModelForm, formset: Any, change: bool) -> None:
        if formset.model is not StockAdjustment:
            super().save_formset(request, form, formset, change)
            return
        user = request.user if isinstance(request.user, User) else None
        formset.new_objects = [
            adjust_stock(form.instance.pk, adjustment.cleaned_data["change"], adjustment.cleaned_data["reason"], user)
            for adjustment in formset.forms
            if adjustment.instance.pk is None and adjustment.has_changed()
        ]
        formset.changed_objects, formset.deleted_objects = [], []  # what the admin's history message reads


@admin.register(StockAdjustment)
class StockAdjustmentAdmin(admin.ModelAdmin):
    """The whole ledger, read-only: adjustments are made on their product's page."""

    list_display = ["created_at", "product", "change", "stock_after", "reason", "created_by"]
    list_select_related = ["product", "created_by"]
    search_fields = ["product__name", "reason"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
